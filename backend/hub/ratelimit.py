"""A token bucket: a steady rate with room for bursts, and no timer behind it."""

from __future__ import annotations

import time


class TokenBucket:
    """Allows `rate` events per second on average and up to `burst` at once."""

    __slots__ = ("rate", "burst", "_tokens", "_stamp")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def allow(self, now: float | None = None) -> bool:
        """Take one token if there is one; refill lazily from the time elapsed since last call."""
        now = time.monotonic() if now is None else now
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
