"""The in-process broker: one instance, no network, the default."""

from __future__ import annotations

import asyncio

from backend.broker.base import Broker
from backend.messages import Envelope, Resync


class MemoryBroker(Broker):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._rooms: set[str] = set()

    def backlog(self) -> int:
        return self._queue.qsize()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)

    def publish(self, envelope: Envelope) -> None:
        # The store commits in id order and nothing else publishes: the queue is in id order.
        if envelope.room in self._rooms:
            self._queue.put_nowait(envelope)

    async def next_published(self) -> Envelope | Resync:
        return await self._queue.get()
