"""The sequencer (backend/hub/sequencer.py): each committed id of a followed room is fanned out
once, in order, to every member, however its arrival races the read of the room's position."""

from __future__ import annotations

import asyncio

from backend.broker.memory import MemoryBroker
from backend.config import Settings
from backend.hub.connection import Mode
from backend.hub.hub import Hub
from backend.hub.sequencer import Sequencer
from backend.messages import Draft, Envelope
from backend.metrics import Metrics
from backend.storage.base import Position, Store, Window
from tests.backend.hub.test_hub import open_conn


def envelope(n: int, room: str = "r") -> Envelope:
    return Envelope(room, n, "2026-12-03T00:00:00.000Z", "ana", "g:ana", f"m{n}", None, "i:1")


class SlowPositionStore(Store):
    """Committed ids 1..`last`; `position` answers only when `answer` is set, with `last` as it
    is then (the read sees whatever committed meanwhile)."""

    def __init__(self) -> None:
        self.last = 0
        self.answer = asyncio.Event()
        self.reads = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def append(self, draft: Draft) -> asyncio.Future[Envelope]:
        raise AssertionError("the sequencer never appends")

    async def flush(self) -> None:
        pass

    async def read(self, room: str, window: Window) -> list[Envelope]:
        self.reads += 1
        after = window.after or 0
        return [envelope(n, room) for n in range(after + 1, self.last + 1)][: window.limit]

    async def find(self, room: str, sender_id: str, ref: str) -> Envelope | None:
        raise AssertionError("the sequencer never resolves refs")

    async def position(self, room: str) -> Position:
        await self.answer.wait()
        return Position(first=1, last=self.last, epoch="e")

    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        return 0


def test_ids_committed_while_the_position_is_read_are_fanned_out_at_once_in_order() -> None:
    async def main() -> tuple[list[int], int]:
        store = SlowPositionStore()
        fanned: list[int] = []
        sequencer = Sequencer(store, lambda e: fanned.append(e.id))
        sequencer.open("r")
        starting = asyncio.create_task(sequencer.start("r"))
        await asyncio.sleep(0)
        # Three messages commit after the room was followed, before its position is known;
        # the position read then counts them as already there.
        for n in (1, 2, 3):
            store.last = n
            sequencer.offer(envelope(n))
        store.answer.set()
        await starting
        at_start = list(fanned)
        store.last = 4
        sequencer.offer(envelope(4))
        await asyncio.sleep(0.4)  # longer than GAP_WAIT: any late fill has happened
        sequencer.stop()
        assert fanned == [1, 2, 3, 4], fanned
        return at_start, store.reads

    at_start, reads = asyncio.run(main())
    assert at_start == [1, 2, 3]  # not held back until a gap is read from the store
    assert reads == 0


def test_an_id_offered_twice_is_fanned_out_once() -> None:
    async def main() -> list[int]:
        store = SlowPositionStore()
        store.answer.set()
        fanned: list[int] = []
        sequencer = Sequencer(store, lambda e: fanned.append(e.id))
        sequencer.open("r")
        await sequencer.start("r")
        for n in (1, 2, 2, 1, 3):
            store.last = max(store.last, n)
            sequencer.offer(envelope(n))
        sequencer.stop()
        return fanned

    assert asyncio.run(main()) == [1, 2, 3]


def test_the_first_member_of_a_room_receives_what_commits_while_the_room_opens() -> None:
    async def main() -> list[bytes]:
        store = SlowPositionStore()
        hub = Hub(Settings(), MemoryBroker(), Metrics(), store)
        conn, sink = open_conn(hub, "bea", Mode.TEXT)
        joining = asyncio.create_task(hub.join(conn, "r"))
        await asyncio.sleep(0)  # the room's position is being read
        store.last = 1
        hub.sequencer.offer(envelope(1))  # committed after the join began
        store.answer.set()
        await joining
        await asyncio.sleep(0.05)  # the connection's writer runs
        hub.sequencer.stop()
        return sink.sent

    sent = asyncio.run(main())
    assert len(sent) == 1 and sent[0].endswith(b"m1"), sent


def test_a_connection_that_ends_while_its_room_opens_is_not_left_in_the_room() -> None:
    async def main() -> tuple[Hub, set[str]]:
        store = SlowPositionStore()
        hub = Hub(Settings(), MemoryBroker(), Metrics(), store)
        conn, _ = open_conn(hub, "cid", Mode.TEXT)
        joining = asyncio.create_task(hub.join(conn, "r"))
        await asyncio.sleep(0)  # the room's position is being read
        await hub.disconnect(conn, 1000)
        store.answer.set()
        await joining
        return hub, conn.rooms

    hub, rooms = asyncio.run(main())
    assert rooms == set()
    assert "r" not in hub.rooms  # no member left behind: fan-out, presence and counts agree
    assert hub.count("r") == 0
