"""The in-process broker: one instance, no network, the default."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from backend.broker.base import Broker, Draft, Envelope
from backend.protocol import utc_timestamp


class MemoryBroker(Broker):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._rooms: set[str] = set()
        self._last_id: defaultdict[str, int] = defaultdict(int)

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)

    async def publish(self, draft: Draft) -> Envelope:
        # No await between numbering and queueing: ids reach the queue in increasing order.
        last = self._last_id[draft.room] = max(self._last_id[draft.room], draft.floor) + 1
        envelope = Envelope(
            room=draft.room,
            id=last,
            ts=utc_timestamp(),
            sender=draft.sender,
            text=draft.text,
            data=draft.data,
            origin=draft.origin,
        )
        if draft.room in self._rooms:
            self._queue.put_nowait(envelope)
        return envelope

    async def next_published(self) -> Envelope:
        return await self._queue.get()
