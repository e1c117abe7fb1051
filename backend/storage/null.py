"""No storage (DATABASE_URL=none): acks mean "numbered", history is empty, nothing is kept.

Ids still never repeat across restarts: a room's numbering starts from the clock (milliseconds
since 1970 times 1,000), which every earlier process's ids stay below unless it published over
1,000 messages per millisecond of its life. That also lets the per-room counters be forgotten
(least recently used first) so that room names cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict

from backend.messages import Draft, Envelope
from backend.protocol import utc_timestamp
from backend.storage.base import Position, Store, Window

ROOMS_REMEMBERED = 10_000


class NullStore(Store):
    def __init__(self) -> None:
        self._last: OrderedDict[str, int] = OrderedDict()
        # No log is kept, so no `since` from before this process can be honoured.
        self.epoch = secrets.token_hex(8)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def _current(self, room: str) -> int:
        """The room's last id, starting it from the clock when it is not remembered."""
        last = self._last.pop(room, None) or time.time_ns() // 1_000_000 * 1_000
        self._last[room] = last
        while len(self._last) > ROOMS_REMEMBERED:
            self._last.popitem(last=False)
        return last

    def append(self, draft: Draft) -> asyncio.Future[Envelope]:
        room = draft.room
        self._last[room] = last = self._current(room) + 1
        envelope = Envelope(
            room, last, utc_timestamp(), draft.sender.name, draft.sender.id, draft.text,
            draft.data, draft.origin, draft.ref, draft.kind, draft.target, digest=draft.digest,
        )  # fmt: skip
        done: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        done.set_result(envelope)
        if self.on_commit is not None:
            self.on_commit([envelope])
        return done

    async def flush(self) -> None:
        pass

    async def read(self, room: str, window: Window) -> list[Envelope]:
        return []

    async def find(self, room: str, sender_id: str, ref: str) -> Envelope | None:
        return None  # nothing is kept: the publisher's recent refs are all there is

    async def position(self, room: str) -> Position:
        last = self._current(room)
        return Position(first=last + 1, last=last, epoch=self.epoch)

    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        return 0
