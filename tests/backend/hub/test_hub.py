"""The hub on its own: rooms, fan-out without echo, presence, slow consumers, stats."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import orjson

from backend.broker.memory import MemoryBroker
from backend.closecodes import CloseCode
from backend.config import Settings
from backend.hub.connection import Connection, Mode, State
from backend.hub.hub import Hub
from backend.hub.outbound import Outgoing
from backend.hub.stats import snapshot
from backend.identity import guest
from backend.metrics import Metrics
from backend.storage.null import NullStore


class RecordingSink:
    """Stands in for a socket: records payloads, and can stop being writable like a stalled one."""

    immediate = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.open = True
        self.closed_with: int | None = None

    def writable(self) -> bool:
        return self.open

    async def wait_writable(self) -> None:
        while not self.open:
            await asyncio.sleep(0.01)

    def gone(self) -> bool:
        return False

    def write_one(self, item: Outgoing) -> None:
        self.sent.append(item.data)

    async def write_batch(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        while not self.open:
            await asyncio.sleep(0.01)
        self.sent.extend(item.data for item in batch)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code


def make_hub(**settings: object) -> Hub:
    return Hub(Settings(**settings), MemoryBroker(), Metrics(), NullStore())  # type: ignore[arg-type]


def open_conn(hub: Hub, name: str, mode: Mode) -> tuple[Connection, RecordingSink]:
    sink = RecordingSink()
    return hub.open(guest(name), mode, sink), sink  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_fanout_reaches_every_member_but_the_author_once_per_mode() -> None:
    async def scenario() -> None:
        hub = make_hub()
        await hub.start()
        author, author_sink = open_conn(hub, "a", Mode.TEXT)
        text, text_sink = open_conn(hub, "t", Mode.TEXT)
        js, json_sink = open_conn(hub, "j", Mode.JSON)
        for conn in (author, text, js):
            await hub.join(conn, "r")
        json_sink.sent.clear()
        committed = await hub.publish(author, "r", "hello")
        await settle()
        assert text_sink.sent == [b"hello"]
        message = orjson.loads(json_sink.sent[0])
        assert (message["id"], message["sender"], message["text"]) == (committed.id, "a", "hello")
        assert (message["sender_id"], message["guest"]) == (author.sender.id, True)
        assert author_sink.sent == []
        await hub.stop()

    asyncio.run(scenario())


def test_a_member_whose_queue_overflows_is_closed_as_a_slow_consumer() -> None:
    async def scenario() -> None:
        hub = make_hub(outbound_queue_messages=3)
        await hub.start()
        author, _ = open_conn(hub, "a", Mode.TEXT)
        stalled, stalled_sink = open_conn(hub, "s", Mode.TEXT)
        healthy, healthy_sink = open_conn(hub, "h", Mode.TEXT)
        for conn in (author, stalled, healthy):
            await hub.join(conn, "r")
        stalled_sink.open = False
        for n in range(10):
            await hub.publish(author, "r", str(n))
        await settle()
        assert stalled.state is State.CLOSING
        assert stalled_sink.closed_with == CloseCode.SLOW_CONSUMER
        assert healthy_sink.sent == [str(n).encode() for n in range(10)]
        assert hub.metrics.registry.get_sample_value("desafio_slow_consumer_disconnects_total") == 1
        await hub.stop()

    asyncio.run(scenario())


def test_presence_goes_to_json_members_only_and_the_last_leave_forgets_the_room() -> None:
    async def scenario() -> None:
        hub = make_hub()
        await hub.start()
        watcher, watcher_sink = open_conn(hub, "w", Mode.JSON)
        text, text_sink = open_conn(hub, "t", Mode.TEXT)
        await hub.join(watcher, "r")
        await hub.join(text, "r")
        visitor, _ = open_conn(hub, "v", Mode.TEXT)
        await hub.join(visitor, "r")
        await hub.disconnect(visitor, 1000)
        events = [orjson.loads(p) for p in watcher_sink.sent]
        assert [(e["event"], e["name"], e["count"]) for e in events] == [
            ("join", "t", 2),
            ("join", "v", 3),
            ("leave", "v", 2),
        ]
        assert text_sink.sent == []
        await hub.disconnect(watcher, 1000)
        await hub.disconnect(text, 1000)
        assert hub.rooms == {} and snapshot(hub)["connections"]["total"] == 0
        await hub.stop()

    asyncio.run(scenario())
