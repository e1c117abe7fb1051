"""Two real instances behind one real Redis: an observer on one instance is in no room's
presence anywhere, yet receives what members on the other instance publish."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient, assert_silent
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually

ADMIN = sign("ops", role="admin")


def stats(server: ServerProcess) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(server.http + "/stats", timeout=5).json()
    return body


def test_an_observer_is_unseen_across_instances(
    redis_server: RedisServer, make_server: ServerFactory, postgres: PostgresServer
) -> None:
    env = {
        "BROKER_URL": redis_server.url,
        "DATABASE_URL": postgres.fresh_database(),
        "JWT_SECRET": SECRET,
        "CLOSE_TIMEOUT": "0.5",
    }
    a, b = make_server(env), make_server(env)
    alice = JsonClient(a.ws, "name=alice&room=watched")
    alice.next_of("subscribed")
    watcher = JsonClient(b.ws, f"room=watched&observe=1&token={ADMIN}")
    # The observer is told who is in the room on every instance, and counts for nobody.
    seen = watcher.next_of("subscribed")
    assert (seen["count"], seen["members"]) == (1, ["alice"])
    assert_silent(alice.ws, 1.5)  # several heartbeats: a resync would not add it either

    bob = JsonClient(b.ws, "name=bob")
    joined = bob.subscribe("watched")
    assert (joined["count"], [m["name"] for m in joined["roster"]]) == (2, ["alice"])
    assert (alice.next_of("presence")["name"], alice.buffer) == ("bob", [])
    for server in (a, b):

        def two_members(server: ServerProcess = server) -> bool:
            return bool(stats(server)["rooms"].get("watched", {}).get("connections") == 2)

        eventually(two_members, what="the cluster's /stats to count two members")
        assert stats(server)["connections"]["total"] == 2

    alice.send(type="publish", room="watched", text="across", ref="x1")
    alice.next_of("ack")
    assert watcher.next_of("message")["text"] == "across"

    watcher.close()
    bob.close()
    left = alice.next_of("presence")
    assert (left["name"], left["event"], left["count"]) == ("bob", "leave", 1)
