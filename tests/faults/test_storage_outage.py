"""A database outage, path by path: every way in answers it (an error object, a documented
reason, or 503 with Retry-After), the connection stays open, and everything works again once
the database is back, without a restart."""

from __future__ import annotations

import httpx

from tests.support.auth import login, register
from tests.support.clients import JsonClient
from tests.support.postgres import PostgresServer
from tests.support.server import ServerFactory

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000", "CLOSE_TIMEOUT": "0.5"}


def test_every_path_answers_a_database_outage_and_recovers_without_a_restart(
    make_server: ServerFactory,
) -> None:
    database = PostgresServer().init().start()
    try:
        server = make_server({**FAST, "DATABASE_URL": database.url})
        author = JsonClient(server.ws, "room=known")
        author.next_of("subscribed")
        author.send(type="publish", room="known", text="before", ref="b")
        seen = author.next_of("ack")["id"]
        reader = JsonClient(server.ws)
        assert register(server, "olga", "correct horse battery").status_code == 201

        database.stop()
        author.ws.settimeout(15)  # the writer retries for about 1.3 s before answering
        # Publishing to a room never used before: an error, and the connection stays.
        author.send(type="publish", room="brand-new", text="x", ref="n1")
        refused = author.next_of("error")
        assert (refused["code"], refused["ref"]) == ("storage_failed", "n1")
        author.send(type="publish", room="known", text="x", ref="k1")
        assert author.next_of("error")["code"] == "storage_failed"

        # History over HTTP: 503 with Retry-After, never a 500.
        page = httpx.get(f"{server.http}/rooms/known/messages", timeout=15)
        assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
        assert page.json()["error"]["code"] == "storage_unavailable"

        # Subscribing with history, and with since: the subscription works, the reason is said.
        reader.ws.settimeout(15)
        reader.send(type="subscribe", room="known", history=5)
        assert reader.next_of("subscribed")["room"] == "known"
        assert reader.next_of("error")["code"] == "storage_unavailable"
        reader.send(type="subscribe", room="other", since=3)
        answer = reader.next_of("subscribed")
        assert (answer["recovered"], answer["reason"]) == (False, "storage_unavailable")

        # Accounts: 503, not 500.
        assert register(server, "pavel", "correct horse battery").status_code == 503
        assert login(server, "olga", "correct horse battery").status_code == 503

        database.start()
        author.send(type="publish", room="brand-new", text="x", ref="n1")
        assert author.next_of("ack")["id"] == 1
        author.send(type="publish", room="known", text="after", ref="k2")
        assert author.next_of("ack")["id"] == seen + 1
        page = httpx.get(f"{server.http}/rooms/known/messages")
        assert page.status_code == 200
        assert [m["text"] for m in page.json()["messages"]] == ["before", "after"]
        assert login(server, "olga", "correct horse battery").status_code == 200
    finally:
        database.destroy()
