"""An observer (`?observe=1` with an admin token, as the dashboard connects) receives a room's
messages, and no chat client ever sees it: not in presence, counts, members, rosters or /stats."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import websocket

from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerProcess

ADMIN = sign("ops", role="admin")
# Auth optional (guests chat), yet admin tokens can be verified.
ENV = {"JWT_SECRET": SECRET}


@pytest.fixture(scope="module")
def hub() -> Iterator[ServerProcess]:
    with ServerProcess(ENV) as proc:
        yield proc


def stats(server: ServerProcess) -> dict[str, object]:
    body: dict[str, object] = httpx.get(server.http + "/stats", timeout=5).json()
    return body


def test_chat_clients_never_see_observers_in_json_or_text_mode(hub: ServerProcess) -> None:
    alice = JsonClient(hub.ws, "name=alice&room=obs")
    alice.next_of("subscribed")
    plain = connect(hub.ws + "?room=obs&name=tex")
    assert alice.next_of("presence")["name"] == "tex"
    # Two observers, one per mode; neither is announced.
    watcher = JsonClient(hub.ws, f"room=obs&observe=1&token={ADMIN}")
    seen = watcher.next_of("subscribed")
    assert (seen["count"], sorted(seen["members"])) == (2, ["alice", "tex"])
    text_watcher = connect(hub.ws + f"?room=obs&observe=1&token={ADMIN}")
    assert_silent(alice.ws, 0.5)
    assert_silent(plain, 0.2)

    bob = JsonClient(hub.ws, "name=bob")
    joined = bob.subscribe("obs")
    assert joined["count"] == 3
    assert sorted(joined["members"]) == ["alice", "tex"]
    assert sorted(m["name"] for m in joined["roster"]) == ["alice", "tex"]
    assert alice.next_of("presence")["count"] == 3
    room = stats(hub)["rooms"]["obs"]  # type: ignore[index]
    assert room["connections"] == 3
    assert stats(hub)["connections"]["total"] == 3  # type: ignore[index]
    # A member that subscribes again gets the roster again: still no observer in it.
    again = alice.subscribe("obs")
    assert sorted(again["members"]) == ["bob", "tex"]

    # The observers receive what is said, like any member.
    alice.send(type="publish", room="obs", text="seen by all", ref="o1")
    alice.next_of("ack")
    assert watcher.next_of("message")["text"] == "seen by all"
    assert text_watcher.recv() == "seen by all"
    assert plain.recv() == "seen by all"

    # Observers leave without a word; the next presence alice hears is bob's leave.
    watcher.close()
    text_watcher.close()
    bob.close()
    left = alice.next_of("presence")
    assert (left["name"], left["event"], left["count"]) == ("bob", "leave", 2)
    assert_silent(plain, 0.2)


def test_only_an_admin_token_at_the_handshake_may_observe(hub: ServerProcess) -> None:
    for query in ("observe=1", f"observe=1&token={sign('bob')}", "observe=yes"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            connect(f"{hub.ws}?format=json&{query}")
        assert refused.value.status_code in (400, 403), query


def test_the_admin_connection_list_names_observers_with_rooms_queue_and_age(
    hub: ServerProcess,
) -> None:
    watcher = JsonClient(hub.ws, f"room=listed&observe=1&token={ADMIN}")
    watcher.next_of("subscribed")
    member = JsonClient(hub.ws, "name=carol&room=listed")
    member.next_of("subscribed")
    response = httpx.get(
        hub.http + "/admin/connections", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    listed = {c["name"]: c for c in response.json()["connections"] if "listed" in c["rooms"]}
    assert (listed["ops"]["observer"], listed["carol"]["observer"]) == (True, False)
    assert listed["carol"]["mode"] == "json" and listed["carol"]["queued"] == 0
    assert listed["carol"]["age_seconds"] >= 0
