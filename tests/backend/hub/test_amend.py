"""Edits and deletes: only the author (by id) or an admin, stored, live, replayed, in history."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerFactory, ServerProcess


def posted(author: JsonClient, room: str, text: str, ref: str) -> int:
    """Publish and return the stored id (from the ack)."""
    author.send(type="publish", room=room, text=text, ref=ref)
    ack = author.next_of("ack")
    assert ack["ref"] == ref
    return int(ack["id"])


def history(server: ServerProcess, room: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.http}/rooms/{room}/messages", timeout=5)
    response.raise_for_status()
    body: list[dict[str, Any]] = response.json()["messages"]
    return body


def test_the_author_edits_a_message_and_everyone_sees_it_live_and_in_history(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=edits&session=ana-session-secret-0001")
    reader = JsonClient(server.ws, "name=Bob&room=edits")
    reader.next_of("subscribed")
    target = posted(author, "edits", "helo", "m1")
    assert reader.next_of("message")["text"] == "helo"

    author.send(type="edit", room="edits", id=target, text="hello", ref="e1")
    ack = author.next_of("ack")
    assert (ack["ref"], ack["id"]) == ("e1", target + 1)  # an entry of the room's log
    edited = reader.next_of("edited")
    assert edited["target"] == target
    assert edited["text"] == "hello"
    assert edited["sender_id"] == author.welcome["you"]["id"]
    assert edited["id"] == target + 1

    stored = {m["id"]: m for m in history(server, "edits")}
    assert stored[target]["text"] == "hello"
    assert stored[target]["edited_at"] == edited["ts"]
    assert stored[target + 1]["type"] == "edited"


def test_someone_with_the_same_name_cannot_edit_or_delete_another_persons_message(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=impostor")
    impostor = JsonClient(server.ws, "name=Ana&room=impostor")
    impostor.next_of("subscribed")
    target = posted(author, "impostor", "mine", "m1")

    impostor.send(type="edit", room="impostor", id=target, text="yours now", ref="x1")
    refused = impostor.next_of("error")
    assert (refused["code"], refused["ref"]) == ("forbidden", "x1")
    impostor.send(type="delete", room="impostor", id=target, ref="x2")
    refused = impostor.next_of("error")
    assert (refused["code"], refused["ref"]) == ("forbidden", "x2")
    assert_silent(author.ws)
    assert history(server, "impostor")[-1]["text"] == "mine"


def test_a_deleted_message_is_gone_for_everyone_and_cannot_be_edited_again(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=deletes")
    reader = JsonClient(server.ws, "name=Bob&room=deletes")
    reader.next_of("subscribed")
    target = posted(author, "deletes", "oops, a secret", "m1")
    reader.next_of("message")

    author.send(type="delete", room="deletes", id=target, ref="d1")
    assert author.next_of("ack")["ref"] == "d1"
    deleted = reader.next_of("deleted")
    assert deleted["target"] == target
    assert "text" not in deleted

    author.send(type="edit", room="deletes", id=target, text="back", ref="e1")
    refused = author.next_of("error")
    assert (refused["code"], refused["ref"]) == ("not_found", "e1")
    row = history(server, "deletes")[0]
    assert (row["id"], row["text"], row["deleted"], row["data"]) == (target, "", True, None)
    assert "oops" not in str(history(server, "deletes"))


def test_late_joiners_see_the_amended_message_and_recovery_replays_the_amendment(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=late")
    reader = JsonClient(server.ws, "name=Bob&room=late")
    reader.next_of("subscribed")
    target = posted(author, "late", "first draft", "m1")
    last_seen = reader.next_of("message")["id"]
    reader.close()
    author.send(type="edit", room="late", id=target, text="final", ref="e1")
    author.next_of("ack")

    joiner = JsonClient(server.ws)
    joiner.send(type="subscribe", room="late", history=10)
    joiner.next_of("subscribed")
    first = joiner.next_of("message")
    assert (first["id"], first["text"]) == (target, "final")
    assert "edited_at" in first

    back = JsonClient(server.ws)
    back.send(type="subscribe", room="late", since=last_seen)
    assert back.next_of("subscribed")["recovered"] is True
    replayed = back.next()
    assert (replayed["type"], replayed["target"], replayed["text"]) == ("edited", target, "final")


def test_an_admin_may_delete_anyones_message(make_server: ServerFactory) -> None:
    server = make_server({"JWT_SECRET": SECRET})
    author = JsonClient(server.ws, "name=Ana&room=moderated")
    target = posted(author, "moderated", "spam spam", "m1")
    admin = JsonClient(server.ws, f"room=moderated&token={sign('mod', role='admin')}")
    admin.next_of("subscribed")
    admin.send(type="delete", room="moderated", id=target, ref="d1")
    assert admin.next_of("ack")["ref"] == "d1"
    deleted = author.next_of("deleted")
    assert deleted["sender"] == "mod"
    assert deleted["guest"] is False


def test_amending_what_is_not_a_message_is_refused_with_a_clear_error(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=nothing")
    author.next_of("subscribed")
    author.send(type="edit", room="nothing", id=999, text="x", ref="e1")
    assert (author.next_of("error")["code"]) == "not_found"
    author.send(type="edit", room="nothing", text="x", ref="e2")
    refused = author.next_of("error")
    assert (refused["code"], refused["ref"]) == ("invalid_field", "e2")
    assert "id" in refused["detail"]
    author.send(type="delete", room="nothing", id=0, ref="e3")
    assert author.next_of("error")["code"] == "invalid_field"
    target = posted(author, "nothing", "text", "m1")
    author.send(type="edit", room="nothing", id=target, text="bad \x00", ref="e4")
    assert author.next_of("error")["code"] == "invalid_field"


def test_text_mode_members_are_not_sent_amendments(server: ServerProcess) -> None:
    author = JsonClient(server.ws, "name=Ana&room=plain")
    plain = connect(f"{server.ws}?room=plain")
    plain.send("here")
    assert author.next_of("message")["text"] == "here"  # the text member is in
    target = posted(author, "plain", "hello", "m1")
    assert plain.recv() == "hello"
    author.send(type="edit", room="plain", id=target, text="hello!", ref="e1")
    author.next_of("ack")
    assert_silent(plain)


def test_subscribe_and_unsubscribe_answers_echo_the_frames_ref(server: ServerProcess) -> None:
    client = JsonClient(server.ws)
    client.send(type="subscribe", room="refs", ref="s1")
    assert client.next_of("subscribed")["ref"] == "s1"
    client.send(type="unsubscribe", room="refs", ref="u1")
    assert client.next_of("unsubscribed")["ref"] == "u1"
    client.send(type="unsubscribe", room="refs", ref="u2")
    refused = client.next_of("error")
    assert (refused["code"], refused["ref"]) == ("not_subscribed", "u2")


def test_a_delete_removes_every_version_of_the_text_from_history_and_replays(
    server: ServerProcess,
) -> None:
    author = JsonClient(server.ws, "name=Ana&room=forget")
    author.next_of("subscribed")
    target = posted(author, "forget", "SECRET-v1", "m1")
    author.send(type="edit", room="forget", id=target, text="SECRET-v2", ref="e1")
    author.next_of("ack")
    # Pipelined, as a client may: an edit sent after the delete, checked before it committed.
    author.send(type="delete", room="forget", id=target, ref="d1")
    author.send(type="edit", room="forget", id=target, text="SECRET-v3", ref="e2")
    answers = {a["ref"]: a for a in (author.next(skip=("presence",)) for _ in range(2))}
    assert answers["d1"]["type"] == "ack"
    assert json.dumps(history(server, "forget")).count("SECRET") == 0
    for query in ({"since": 0}, {"history": 50}):
        late = JsonClient(server.ws)
        late.send(type="subscribe", room="forget", **query)
        late.next_of("subscribed")
        late.send(type="ping")
        replayed = []
        while (obj := late.next())["type"] != "pong":
            replayed.append(obj)
        assert [o for o in replayed if "SECRET" in json.dumps(o)] == [], query
        assert any(o["type"] == "deleted" for o in replayed)
        late.close()
    author.close()
