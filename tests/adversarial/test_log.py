"""Budgets of the message log: replays page under back-pressure, publishing to endless room
names holds no memory per name and its rows cost retention no hold on others' publishes, and
the stored-bytes quota stops one identity filling the disk."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from backend.hub.publishing import ENTRY_BYTES
from backend.hub.stats import PUBLISHED_ONLY_ROOMS
from backend.identity import Sender
from backend.messages import Draft
from backend.storage import create_store
from tests.adversarial.harness import Watch, scaled
from tests.support.clients import JsonClient, connect, publish_acked
from tests.support.server import ServerFactory

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}
BIG = {**FAST, "INBOUND_BYTES_PER_SECOND": str(1 << 30), "INBOUND_BYTES_BURST": str(1 << 30)}


def stored_beforehand(database: str, messages: list[tuple[str, str]]) -> None:
    """(room, text) messages written straight through the store, as the server would have (an
    attacker's leftovers, faster than over sockets), before the server starts."""

    async def fill() -> None:
        store = create_store(database, batch_size=500)
        await store.start()
        sender = Sender("g:0123456789abcdef", "filler")
        await asyncio.gather(
            *(store.append(Draft(room, sender, text, None, "i:0")) for room, text in messages)
        )
        await store.stop()

    asyncio.run(fill())


def test_replays_to_clients_that_never_read_are_paged_not_piled_up(
    make_server: ServerFactory,
) -> None:
    server = make_server({**BIG, "STORED_BYTES_PER_HOUR": "0"})
    body = "r" * 32 * 1024
    count = scaled(300, 1000)
    publish_acked(server.ws, "archive", [body] * count)  # ~10 MB of history (32 MB long)
    with Watch(server):
        stalled = []
        for _ in range(3):
            # They ask for everything and then read nothing: each replay must wait for them.
            ws = connect(server.ws + "?format=json", timeout=10)
            ws.send(json.dumps({"type": "subscribe", "room": "archive", "since": 0}))
            stalled.append(ws)
        # A late reader still gets its whole replay, in order, while the others stall.
        reader = JsonClient(server.ws)
        reader.send(type="subscribe", room="archive", since=0)
        assert reader.next_of("subscribed")["recovered"] is True
        ids = [reader.next_of("message")["id"] for _ in range(count)]
        assert ids == list(range(1, count + 1))


def test_history_to_clients_that_never_read_is_paged_not_piled_up(
    make_server: ServerFactory,
) -> None:
    server = make_server({**BIG, "STORED_BYTES_PER_HOUR": "0"})
    body = "h" * 32 * 1024
    count = 300
    publish_acked(server.ws, "annals", [body] * count)  # ~10 MB of history
    # A small receive window: the server's writes stop at once, as for a phone that went away.
    small = {"sockopt": ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)}
    with Watch(server):
        stalled = []
        for _ in range(scaled(3, 10)):
            # `history` in both modes; each client then reads nothing. Sent whole, each history
            # sat in the server's buffers (~10 MB a client); paged, one page waits at a time.
            ws = connect(server.ws + "?format=json", timeout=10, **small)
            ws.send(json.dumps({"type": "subscribe", "room": "annals", "history": count}))
            stalled.append(ws)
            text_url = server.ws + f"?room=annals&history={count}"
            stalled.append(connect(text_url, timeout=10, **small))
        time.sleep(1.0)  # every replay has written what its client's window takes, and waits
        # A reader gets the whole history, in order, then live.
        reader = JsonClient(server.ws)
        reader.send(type="subscribe", room="annals", history=count)
        reader.next_of("subscribed")
        ids = [reader.next_of("message")["id"] for _ in range(count)]
        assert ids == list(range(1, count + 1))
        publish_acked(server.ws, "annals", ["live"], name="bob")
        assert reader.next_of("message")["id"] == count + 1


def test_publishing_to_endless_room_names_holds_no_memory_per_name(
    make_server: ServerFactory,
) -> None:
    # No database: the in-memory numbering is the per-name state that could grow (with SQL the
    # names are rows, bounded by retention and the stored-bytes quota).
    server = make_server({"DATABASE_URL": "none"})
    rooms = scaled(3_000, 60_000)
    clients = [JsonClient(server.ws) for _ in range(20)]

    def spray(client: JsonClient, offset: int) -> None:
        # Within each connection's message rate (50/s after a burst of 100): only names vary.
        for n in range(offset, rooms, len(clients)):
            client.send(type="publish", room=f"nobody-{n}", text="x", ref=f"r{n}")
            time.sleep(1 / 45)
        for _ in range(offset, rooms, len(clients)):
            assert client.next(skip=("presence",))["type"] == "ack"

    with Watch(server):
        threads = [threading.Thread(target=spray, args=(c, n)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    stats = httpx.get(server.http + "/stats", timeout=5).json()
    # Nobody joined them: /stats shows the most recent publisher-only rooms, a bounded few.
    unjoined = [room for room in stats["rooms"] if room.startswith("nobody-")]
    assert len(unjoined) <= PUBLISHED_ONLY_ROOMS


def test_the_stored_bytes_quota_stops_one_identity_and_nobody_else(
    make_server: ServerFactory,
) -> None:
    quota = 256 * 1024
    server = make_server({**BIG, "STORED_BYTES_PER_HOUR": str(quota)})
    body = "q" * 16 * 1024
    # The filler comes through the (trusted, loopback) proxy as another client address; the
    # healthy pair is the proxy's own address. A guest's quota is its address's, so new
    # connections (new guest ids) from the filler's address share its quota.
    behind_proxy = ["X-Forwarded-For: 192.0.2.7"]

    def filler_connection() -> Any:
        ws = connect(server.ws + "?format=json", timeout=10, header=behind_proxy)
        ws.recv()  # welcome
        return ws

    def answers(ws: Any, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < count:
            for line in str(ws.recv()).split("\n"):
                obj = json.loads(line)
                if obj["type"] in ("ack", "error"):
                    found.append(obj)
        return found

    with Watch(server):
        filler = filler_connection()
        for n in range(24):
            filler.send(
                json.dumps({"type": "publish", "room": "disk", "text": body, "ref": f"f{n}"})
            )
        first = answers(filler, 24)
        again = filler_connection()
        again.send(json.dumps({"type": "publish", "room": "disk", "text": body, "ref": "again"}))
        second = answers(again, 1)
    acked = [a for a in first if a["type"] == "ack"]
    refused = [a for a in first if a["type"] == "error"]
    assert len(acked) == quota // (len(body) + ENTRY_BYTES)
    assert {r["code"] for r in refused} == {"quota_exceeded"}
    assert second[0]["code"] == "quota_exceeded"


def test_retention_over_endless_one_message_rooms_does_not_stop_others_publishing(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    # What an attacker leaves by publishing once to each of many new room names (cheap: the
    # rows are few bytes).
    database = f"sqlite+aiosqlite:///{tmp_path}/rooms.db"
    rooms = scaled(20_000, 100_000)

    stored_beforehand(database, [(f"spray-{n}", "") for n in range(rooms)])
    # Retention every second, counting rooms as shipped (the newest 10,000 of each are kept).
    server = make_server({"DATABASE_URL": database, "RETENTION_INTERVAL_SECONDS": "1"})
    with Watch(server):
        time.sleep(4)  # a few retention rounds beside the healthy pair: its publishes go on


def test_empty_messages_to_endless_new_rooms_fill_the_stored_bytes_quota_too(
    make_server: ServerFactory,
) -> None:
    quota = 64 * 1024
    server = make_server({**BIG, "STORED_BYTES_PER_HOUR": str(quota)})
    spray = JsonClient(server.ws)
    count = quota // ENTRY_BYTES + 50
    for n in range(count):
        spray.send(type="publish", room=f"empty-{n}", text="", ref=f"e{n}")
    answers = [spray.next(skip=("presence",)) for _ in range(count)]
    assert sum(a["type"] == "ack" for a in answers) == quota // ENTRY_BYTES
    assert {a["code"] for a in answers if a["type"] == "error"} == {"quota_exceeded"}


def test_many_recoveries_at_once_hold_their_pages_encoded_not_as_rows(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/replays.db"

    stored_beforehand(database, [("deep", "r" * 200)] * 1_000)
    server = make_server({**BIG, "DATABASE_URL": database})
    small = {"sockopt": ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)}
    with Watch(server):
        readers = []
        for _ in range(scaled(150, 600)):
            # Each recovers everything, then reads nothing: its replay waits on its first page.
            ws = connect(server.ws + "?format=json", timeout=10, **small)
            ws.send(json.dumps({"type": "subscribe", "room": "deep", "since": 0}))
            readers.append(ws)
        time.sleep(2)
