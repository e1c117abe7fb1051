"""Exponential backoff with jitter: the one used by every retry loop (the Redis reader and
appender, supervised tasks, the dashboard's feed), so that a fleet of instances or dashboards
does not retry in lockstep, and none waits longer than `maximum` to notice a recovery."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays initial, initial*factor, ... up to `maximum`, each cut by a random share <= jitter."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 8.0,
        factor: float = 2.0,
        jitter: float = 0.2,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng
        self._current = initial

    def next(self) -> float:
        """The delay before the next attempt; each call grows the one after it."""
        delay = self._current
        self._current = min(self._current * self.factor, self.maximum)
        return delay * (1.0 - self.jitter * self._rng())

    def reset(self) -> None:
        """After a success the next failure starts from the shortest delay again."""
        self._current = self.initial
