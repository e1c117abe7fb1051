"""Recovery and history on join: replay, then live, with no gap and no duplicate at the seam."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.clients import JsonClient, connect, publish_acked
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}


def test_a_reconnecting_subscriber_gets_exactly_what_it_missed_then_live(
    make_server: ServerFactory,
) -> None:
    server = make_server(FAST)
    author = JsonClient(server.ws, "room=recover")
    reader = JsonClient(server.ws, "room=recover")
    reader.next_of("subscribed")
    author.send(type="publish", room="recover", text="seen", ref="0")
    last_seen = reader.next_of("message")["id"]
    reader.close()

    for n in range(1, 101):
        author.send(type="publish", room="recover", text=f"missed {n}", ref=str(n))
    for _ in range(100):
        author.next_of("ack")

    back = JsonClient(server.ws)
    back.send(type="subscribe", room="recover", since=last_seen)
    assert back.next_of("subscribed")["recovered"] is True
    replayed = [back.next_of("message") for _ in range(100)]
    assert [m["text"] for m in replayed] == [f"missed {n}" for n in range(1, 101)]
    assert [m["id"] for m in replayed] == list(range(last_seen + 1, last_seen + 101))
    author.send(type="publish", room="recover", text="live", ref="live")
    live = back.next_of("message")
    assert (live["text"], live["id"]) == ("live", last_seen + 101)


def test_recovery_has_no_gap_and_no_duplicate_while_publishing_continues(
    make_server: ServerFactory,
) -> None:
    server = make_server(FAST)
    author = JsonClient(server.ws, "room=busy")
    stop = threading.Event()
    sent = [0]

    def publish() -> None:
        while not stop.is_set() and sent[0] < 3000:
            author.send(type="publish", room="busy", text=str(sent[0]))
            sent[0] += 1
            time.sleep(0.0005)

    reader = JsonClient(server.ws, "room=busy")
    reader.next_of("subscribed")
    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    seen = [reader.next_of("message")["id"] for _ in range(200)]
    reader.close()  # drops out mid-stream; publishing goes on
    back = JsonClient(server.ws)
    back.send(type="subscribe", room="busy", since=seen[-1])
    assert back.next_of("subscribed")["recovered"] is True
    after = [back.next_of("message")["id"] for _ in range(300)]
    stop.set()
    publisher.join(10)
    ids = seen + after
    assert ids == list(range(ids[0], ids[0] + len(ids))), "a gap or a duplicate at the seam"


def test_a_refused_since_on_a_live_subscription_leaves_its_stream_without_a_gap(
    make_server: ServerFactory,
) -> None:
    # The fan-out skips a catching-up connection while its plan is read; a refused plan
    # (unknown offset, another epoch) replayed nothing, and what came meanwhile was lost.
    server = make_server(FAST)
    author = JsonClient(server.ws, "room=steady")
    stop = threading.Event()

    def publish() -> None:
        n = 0
        while not stop.is_set() and n < 3000:
            author.send(type="publish", room="steady", text=str(n))
            n += 1
            time.sleep(0.002)

    reader = JsonClient(server.ws, "room=steady")
    reader.next_of("subscribed")
    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    first = reader.next_of("message")["id"]
    for n in range(60):
        if n % 2:
            reader.send(type="subscribe", room="steady", since=10**12)
        else:
            reader.send(type="subscribe", room="steady", since=0, epoch="another-log")
    answers = 0
    seen = [first]
    while answers < 60:
        obj = reader.next()
        if obj["type"] == "subscribed":
            assert obj["recovered"] is False
            assert obj["reason"] in {"unknown_offset", "epoch_changed"}
            answers += 1
        elif obj["type"] == "message":
            seen.append(obj["id"])
    seen += [reader.next_of("message")["id"] for _ in range(50)]
    stop.set()
    publisher.join(10)
    assert seen == list(range(first, first + len(seen))), "a gap or a duplicate while live"


def test_a_subscriber_behind_what_retention_kept_is_told_recovered_false(
    make_server: ServerFactory,
) -> None:
    server = make_server(
        {**FAST, "RETENTION_MAX_PER_ROOM": "10", "RETENTION_INTERVAL_SECONDS": "0.2"}
    )
    author = JsonClient(server.ws, "room=short")
    for n in range(30):
        author.send(type="publish", room="short", text=str(n), ref=str(n))
    ids = [author.next_of("ack")["id"] for _ in range(30)]
    deadline = time.monotonic() + 10
    url = f"{server.http}/rooms/short/messages"
    while len(httpx.get(url, params={"limit": 500}).json()["messages"]) > 10:
        assert time.monotonic() < deadline, "retention did not run"
        time.sleep(0.1)
    late = JsonClient(server.ws)
    late.send(type="subscribe", room="short", since=ids[0])
    assert late.next_of("subscribed")["recovered"] is False
    current = JsonClient(server.ws)
    current.send(type="subscribe", room="short", since=ids[-1])
    assert current.next_of("subscribed")["recovered"] is True


def test_a_replay_that_meets_a_hole_says_so_instead_of_skipping_it(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    database = tmp_path / "holes.db"
    server = make_server({**FAST, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    publish_acked(server.ws, "holes", [f"m{n}" for n in range(1, 11)])
    # A row gone from the middle of the log (nothing in the hub deletes that way; a store
    # that did, or a cut retention round, must not be replayed across as exact).
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM messages WHERE room = 'holes' AND id = 5")
    late = JsonClient(server.ws)
    late.send(type="subscribe", room="holes", since=2)
    assert late.next_of("subscribed")["recovered"] is True  # the plan sees only the ends
    got = []
    while (obj := late.next(skip=("presence",)))["type"] == "message":
        got.append(obj["id"])
    assert obj["code"] == "recovery_incomplete"
    assert got == list(range(3, 3 + len(got))) and 6 not in got


def test_history_on_join_sends_the_last_messages_first_in_both_modes(
    make_server: ServerFactory,
) -> None:
    server = make_server(FAST)
    author = JsonClient(server.ws, "room=past")
    for n in range(8):
        author.send(type="publish", room="past", text=f"old {n}", ref=str(n))
    for _ in range(8):
        author.next_of("ack")

    js = JsonClient(server.ws)
    js.send(type="subscribe", room="past", history=3)
    subscribed = js.next_of("subscribed")
    assert "recovered" not in subscribed
    assert [js.next_of("message")["text"] for _ in range(3)] == ["old 5", "old 6", "old 7"]

    text = connect(server.ws + "?room=past&history=2")
    assert [text.recv(), text.recv()] == ["old 6", "old 7"]
    author.send(type="publish", room="past", text="new", ref="new")
    assert text.recv() == "new"
    plain = connect(server.ws + "?room=past")  # the original behaviour: no history by default
    author.send(type="publish", room="past", text="newer", ref="newer")
    assert plain.recv() == "newer"


def test_a_client_that_leaves_during_its_replay_is_forgotten_at_once(
    make_server: ServerFactory,
) -> None:
    server = make_server({**FAST, "STORED_BYTES_PER_HOUR": "0"})
    publish_acked(server.ws, "deep", ["d" * 16 * 1024] * 200)
    # Asks for 3 MiB and never reads: its replay waits for it to take each page.
    ws = connect(server.ws + "?format=json", sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    ws.send(json.dumps({"type": "subscribe", "room": "deep", "since": 0}))
    eventually(lambda: members(server, "deep") == 1, what="the replaying client to join")
    ws.shutdown()  # type: ignore[no-untyped-call]
    # The waiting replay notices the socket is gone, and the connection leaves the room.
    eventually(lambda: members(server, "deep") == 0, timeout=5, what="the room to empty")


def members(server: ServerProcess, room: str) -> int:
    rooms: dict[str, Any] = httpx.get(server.http + "/stats", timeout=5).json()["rooms"]
    count: int = rooms.get(room, {}).get("connections", 0)
    return count


def test_every_subscribed_names_the_log_and_another_logs_offsets_are_void(
    make_server: ServerFactory,
) -> None:
    first, second = make_server(FAST), make_server(FAST)  # two databases, two logs
    client = JsonClient(first.ws)
    epoch = client.subscribe("empty")["epoch"]  # even a room that never had a message
    assert len(epoch) == 16
    client.send(type="subscribe", room="empty", since=0, epoch=epoch)
    assert client.next_of("subscribed")["recovered"] is True
    elsewhere = JsonClient(second.ws).subscribe("empty")["epoch"]
    assert elsewhere != epoch
    client.send(type="subscribe", room="empty", since=0, epoch=elsewhere)
    answer = client.next_of("subscribed")
    assert (answer["recovered"], answer["reason"], answer["epoch"]) == (
        False, "epoch_changed", epoch,
    )  # fmt: skip
