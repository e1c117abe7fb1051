"""A ref names one operation: a resend gets the first answer, any other use is `ref_reused`.

Each case runs twice: answered from the publisher's recent refs ("memory"), and after a restart,
when only the store's unique (room, sender_id, ref) index knows the ref ("store").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.backend.hub.test_amend import history
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory, ServerProcess

SESSION = "session=ref-owner-session-0001"  # the same guest sender id across the restart


@pytest.fixture(params=["memory", "store"])
def later(
    request: pytest.FixtureRequest, make_server: ServerFactory, tmp_path: Path
) -> Callable[[ServerProcess], ServerProcess]:
    """The server to send the second frame to: the same one, or a restart on its database."""

    def after(server: ServerProcess) -> ServerProcess:
        if request.param == "memory":
            return server
        server.stop()
        return make_server({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/refs.db"})

    return after


@pytest.fixture
def server(make_server: ServerFactory, tmp_path: Path) -> ServerProcess:
    return make_server({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/refs.db"})


def author(server: ServerProcess, room: str) -> JsonClient:
    client = JsonClient(server.ws, f"name=Ana&room={room}&{SESSION}")
    client.next_of("subscribed")
    return client


def answer(client: JsonClient, **frame: Any) -> dict[str, Any]:
    client.send(**frame)
    reply = client.next(skip=("presence", "message", "edited", "deleted"))
    assert reply.get("ref") == frame["ref"], reply
    return reply


def test_a_publishs_ref_used_again_for_an_edit_is_refused_and_nothing_is_edited(
    server: ServerProcess, later: Callable[[ServerProcess], ServerProcess]
) -> None:
    ana = author(server, "reuse")
    first = answer(ana, type="publish", room="reuse", text="original", ref="r1")
    assert first["type"] == "ack"
    ana.close()

    server = later(server)
    ana = author(server, "reuse")
    reply = answer(ana, type="edit", room="reuse", id=first["id"], text="changed", ref="r1")
    assert (reply["type"], reply["code"]) == ("error", "ref_reused")
    assert [(m["id"], m["text"]) for m in history(server, "reuse")] == [(first["id"], "original")]


def test_a_deletes_ref_used_again_for_a_new_message_is_refused_not_acked_as_the_delete(
    server: ServerProcess, later: Callable[[ServerProcess], ServerProcess]
) -> None:
    ana = author(server, "reuse")
    target = answer(ana, type="publish", room="reuse", text="to go", ref="m1")["id"]
    deleted = answer(ana, type="delete", room="reuse", id=target, ref="d1")
    assert deleted["type"] == "ack"
    ana.close()

    server = later(server)
    ana = author(server, "reuse")
    reply = answer(ana, type="publish", room="reuse", text="new words", ref="d1")
    assert (reply["type"], reply["code"]) == ("error", "ref_reused")
    fresh = answer(ana, type="publish", room="reuse", text="new words", ref="m2")
    assert (fresh["type"], fresh["id"]) == ("ack", deleted["id"] + 1)
    assert "new words" in [m.get("text") for m in history(server, "reuse")]


def test_an_edit_or_delete_resent_with_its_ref_gets_its_first_ack_even_once_it_cannot_recur(
    server: ServerProcess, later: Callable[[ServerProcess], ServerProcess]
) -> None:
    ana = author(server, "resend")
    target = answer(ana, type="publish", room="resend", text="helo", ref="m1")["id"]
    edited = answer(ana, type="edit", room="resend", id=target, text="hello", ref="e1")
    deleted = answer(ana, type="delete", room="resend", id=target, ref="d1")
    assert (edited["type"], deleted["type"]) == ("ack", "ack")
    ana.close()

    server = later(server)
    ana = author(server, "resend")
    # The message is gone now: only the refs can tell these are resends, not new requests.
    assert answer(ana, type="delete", room="resend", id=target, ref="d1") == deleted
    assert answer(ana, type="edit", room="resend", id=target, text="hello", ref="e1") == edited
    ids = [m["id"] for m in history(server, "resend")]
    assert ids == [target, edited["id"], deleted["id"]]
    # A new delete of the deleted message is still not found.
    refused = answer(ana, type="delete", room="resend", id=target, ref="d2")
    assert (refused["type"], refused["code"]) == ("error", "not_found")


def test_a_ref_resent_with_other_content_is_refused_and_the_first_content_is_kept(
    server: ServerProcess, later: Callable[[ServerProcess], ServerProcess]
) -> None:
    ana = author(server, "content")
    first = answer(ana, type="publish", room="content", text="pay 1", data={"amount": 1}, ref="p1")
    edit = answer(ana, type="edit", room="content", id=first["id"], text="pay 1!", ref="e1")
    ana.close()

    server = later(server)
    ana = author(server, "content")
    for frame in (
        {"type": "publish", "text": "pay 1000", "data": {"amount": 1}, "ref": "p1"},
        {"type": "publish", "text": "pay 1", "data": {"amount": 1000}, "ref": "p1"},
        {"type": "edit", "id": first["id"], "text": "pay 1000!", "ref": "e1"},
    ):
        reply = answer(ana, room="content", **frame)
        assert (reply["type"], reply["code"]) == ("error", "ref_reused"), frame
    # The same frames again are resends: the first answers, even after the edit changed the row.
    same = answer(ana, type="publish", room="content", text="pay 1", data={"amount": 1}, ref="p1")
    assert (same["type"], same["id"]) == ("ack", first["id"])
    again = answer(ana, type="edit", room="content", id=first["id"], text="pay 1!", ref="e1")
    assert (again["type"], again["id"]) == ("ack", edit["id"])
    (stored,) = [m for m in history(server, "content") if m["id"] == first["id"]]
    assert (stored["text"], stored["data"]) == ("pay 1!", {"amount": 1})


def test_an_edit_resent_with_other_text_after_its_message_was_deleted_is_refused(
    server: ServerProcess, later: Callable[[ServerProcess], ServerProcess]
) -> None:
    ana = author(server, "gone")
    target = answer(ana, type="publish", room="gone", text="soon gone", ref="m1")["id"]
    edit = answer(ana, type="edit", room="gone", id=target, text="edited", ref="e1")
    assert answer(ana, type="delete", room="gone", id=target, ref="d1")["type"] == "ack"
    ana.close()

    server = later(server)
    ana = author(server, "gone")
    other = answer(ana, type="edit", room="gone", id=target, text="not what e1 asked", ref="e1")
    assert (other["type"], other["code"]) == ("error", "ref_reused")
    same = answer(ana, type="edit", room="gone", id=target, text="edited", ref="e1")
    assert (same["type"], same["id"]) == ("ack", edit["id"])
