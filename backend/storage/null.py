"""No storage (DATABASE_URL=none): acks mean "sequenced", history is empty."""

from __future__ import annotations

import asyncio

from backend.broker import Envelope
from backend.storage.base import Store, Window


class NullStore(Store):
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def append(self, envelope: Envelope) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def flush(self) -> None:
        pass

    async def read(self, room: str, window: Window) -> list[Envelope]:
        return []

    async def bounds(self, room: str) -> tuple[int, int] | None:
        return None

    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        return 0
