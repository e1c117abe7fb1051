"""A rate of events per second: a leaf that /stats and the cluster's merged /stats both use."""

from __future__ import annotations

import time
from collections import deque


class Rate:
    """Events per second over the last WINDOW whole seconds, kept in a tiny ring: free to keep."""

    WINDOW = 10

    def __init__(self) -> None:
        self.total = 0
        self._seconds: deque[list[int]] = deque(maxlen=self.WINDOW + 1)

    def record(self) -> None:
        self.total += 1
        second = int(time.monotonic())
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1][1] += 1
        else:
            self._seconds.append([second, 1])

    def per_second(self) -> float:
        # Only whole seconds count; the current, partial one would bias the rate low.
        now = int(time.monotonic())
        total = sum(count for second, count in self._seconds if now - self.WINDOW <= second < now)
        return total / self.WINDOW
