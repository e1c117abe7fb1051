"""Nothing acknowledged is ever lost: SIGKILL after acks, a restart, and every message is there."""

from __future__ import annotations

import httpx

from tests.support.clients import JsonClient
from tests.support.postgres import PostgresServer
from tests.support.server import ServerFactory

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}


def history_ids(base: str, room: str) -> list[int]:
    ids: list[int] = []
    after = 0
    while True:
        page = httpx.get(f"{base}/rooms/{room}/messages", params={"after": after, "limit": 500})
        batch = page.json()["messages"]
        if not batch:
            return ids
        ids.extend(m["id"] for m in batch)
        after = batch[-1]["id"]


def test_every_acked_message_survives_sigkill_and_ids_continue_after_restart(
    make_server: ServerFactory, database_url: str
) -> None:
    room = "durable"
    env = {**FAST, "DATABASE_URL": database_url}
    first = make_server(env)
    author = JsonClient(first.ws, f"room={room}")
    author.next_of("subscribed")
    for n in range(500):
        author.send(type="publish", room=room, text=f"m{n}", ref=f"d{n}")
    acked: dict[str, int] = {}
    while len(acked) < 500:
        ack = author.next_of("ack")
        acked[ack["ref"]] = ack["id"]
    first.kill()

    second = make_server(env)
    stored = history_ids(second.http, room)
    assert stored[: len(acked)] == sorted(acked.values())
    assert sorted(acked.values()) == list(range(stored[0], stored[0] + 500))

    again = JsonClient(second.ws, f"room={room}")
    again.next_of("subscribed")
    again.send(type="publish", room=room, text="after restart", ref="later")
    assert again.next_of("ack")["id"] == max(stored) + 1


def test_a_resent_ref_is_acknowledged_again_without_a_duplicate(make_server: ServerFactory) -> None:
    server = make_server(FAST)
    author = JsonClient(server.ws, "room=idem")
    author.next_of("subscribed")
    author.send(type="publish", room="idem", text="once", ref="same")
    first = author.next_of("ack")
    author.send(type="publish", room="idem", text="once", ref="same")
    second = author.next_of("ack")
    assert first == second
    assert history_ids(server.http, "idem") == [first["id"]]


def test_a_message_that_cannot_be_stored_gets_an_error_not_an_ack(
    make_server: ServerFactory,
) -> None:
    database = PostgresServer().init().start()
    try:
        server = make_server({**FAST, "DATABASE_URL": database.url})
        author = JsonClient(server.ws, "room=outage")
        author.next_of("subscribed")
        author.send(type="publish", room="outage", text="stored", ref="ok")
        assert author.next_of("ack")["ref"] == "ok"
        database.stop()
        author.ws.settimeout(15)  # the store retries for about 1.3 s before giving up
        author.send(type="publish", room="outage", text="lost", ref="fails")
        answer = author.next(skip=("presence",))
        assert answer["type"] == "error" and answer["code"] == "storage_failed"
        assert answer["ref"] == "fails"
        database.start()
        author.send(type="publish", room="outage", text="lost", ref="fails")
        assert author.next_of("ack")["ref"] == "fails"  # the retry with the same ref succeeds
    finally:
        database.destroy()
