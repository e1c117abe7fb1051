"""Whether Redis answers, and how long to wait before asking again."""

from __future__ import annotations

import logging
import random

log = logging.getLogger("desafio.cluster")


class Health:
    """The last verdict of any Redis call; logs only the changes, so an outage is two lines."""

    def __init__(self) -> None:
        self.up = False
        self._outage_logged = False

    def ok(self) -> bool:
        """Record a success; True when this ends an outage (callers then repair shared state)."""
        recovered = not self.up
        self.up = True
        if recovered and self._outage_logged:
            log.warning("redis reachable again")
            self._outage_logged = False
        return recovered

    def failed(self, doing: str, exc: BaseException) -> None:
        self.up = False
        if not self._outage_logged:
            log.warning("redis unreachable while %s: %r; retrying with backoff", doing, exc)
            self._outage_logged = True


class Backoff:
    """Exponential delays with jitter, capped: instances do not hammer a recovering Redis in step,
    and none waits longer than `cap` seconds to notice that it is back."""

    def __init__(self, first: float = 0.1, cap: float = 2.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self._next = self.first
