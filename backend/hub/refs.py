"""Idempotent publishing: a (sender, room, ref) resent within the window gets the first answer."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import replace
from functools import partial

from backend.messages import Envelope

# (sender id, room, ref): the same ref in another room, or by another sender, is another message.
RefKey = tuple[str, str, str]


class RecentRefs:
    """The outcome of recent publishes by (sender id, room, ref), bounded in age and in count.

    A client that lost an ack resends with the same ref; it must get the original id, not a
    second copy of its message. The store resolves any stored ref (its unique index); this is
    the fast path for refs in flight or just answered. An answered ref keeps only a receipt (the
    envelope without its text and data), so each entry costs a few hundred bytes whatever the
    message's size. Failed publishes are forgotten so that a retry really retries.
    """

    def __init__(self, window_seconds: float, max_refs: int) -> None:
        self.window = window_seconds
        self.max_refs = max_refs
        self._seen: OrderedDict[RefKey, tuple[float, asyncio.Future[Envelope] | Envelope]] = (
            OrderedDict()
        )

    def get(self, key: RefKey) -> asyncio.Future[Envelope] | None:
        self._expire()
        entry = self._seen.get(key)
        if entry is None:
            return None
        outcome = entry[1]
        if isinstance(outcome, Envelope):
            answered: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
            answered.set_result(outcome)
            return answered
        return outcome

    def remember(self, key: RefKey, outcome: asyncio.Future[Envelope]) -> None:
        self._seen[key] = (time.monotonic(), outcome)
        while len(self._seen) > self.max_refs:
            self._seen.popitem(last=False)
        outcome.add_done_callback(partial(self._settled, key))

    def _settled(self, key: RefKey, outcome: asyncio.Future[Envelope]) -> None:
        entry = self._seen.get(key)
        if entry is None or entry[1] is not outcome:
            return
        if outcome.exception() is not None:
            del self._seen[key]  # so that a retry with this ref really retries
        else:
            self._seen[key] = (entry[0], replace(outcome.result(), text="", data=None))

    def _expire(self) -> None:
        horizon = time.monotonic() - self.window
        while self._seen:
            stamp, _ = next(iter(self._seen.values()))
            if stamp >= horizon:
                break
            self._seen.popitem(last=False)
