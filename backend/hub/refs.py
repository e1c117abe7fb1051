"""Idempotent publishing: a (sender, room, ref) resent within the window gets the first answer."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from backend.messages import Envelope

# (sender id, room, ref): the same ref in another room, or by another sender, is another message.
RefKey = tuple[str, str, str]


class RecentRefs:
    """The outcome of recent publishes by (sender, ref), bounded in age and in count.

    A client that lost an ack resends with the same ref; it must get the original id, not a
    second copy of its message. Failed publishes are forgotten so that a retry really retries.
    """

    def __init__(self, window_seconds: float, max_refs: int) -> None:
        self.window = window_seconds
        self.max_refs = max_refs
        self._seen: OrderedDict[RefKey, tuple[float, asyncio.Future[Envelope]]] = OrderedDict()

    def get(self, key: RefKey) -> asyncio.Future[Envelope] | None:
        self._expire()
        entry = self._seen.get(key)
        return entry[1] if entry else None

    def remember(self, key: RefKey, outcome: asyncio.Future[Envelope]) -> None:
        self._seen[key] = (time.monotonic(), outcome)
        while len(self._seen) > self.max_refs:
            self._seen.popitem(last=False)

    def forget(self, key: RefKey) -> None:
        self._seen.pop(key, None)

    def _expire(self) -> None:
        horizon = time.monotonic() - self.window
        while self._seen:
            stamp, _ = next(iter(self._seen.values()))
            if stamp >= horizon:
                break
            self._seen.popitem(last=False)
