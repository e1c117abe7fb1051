"""The stored-bytes quota: how much one identity (or, for guests, one address) may add to the
database per hour.

Retention bounds how long messages stay; this bounds how fast anyone can fill the disk in the
meantime. Guests are counted by client address, not by their guest id, because a guest id is
free to change with every connection. The buckets are kept for the most recent keys only: a
forgotten key starts again with a full bucket, which costs an attacker an hour of waiting per
address, not the server memory per address ever seen.
"""

from __future__ import annotations

import time
from collections import OrderedDict

# Keys (identities and addresses) whose buckets are remembered at most.
KEYS_REMEMBERED = 50_000


class StoredBytesQuota:
    """A token bucket of bytes per key, `per_hour` deep, refilled at `per_hour` an hour."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._rate = per_hour / 3600.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def charge(self, key: str, size: int) -> bool:
        """Take `size` bytes from `key`'s bucket; False (and nothing taken) if it has not."""
        if self.per_hour <= 0:
            return True  # 0 disables the quota
        now = time.monotonic()
        level, stamp = self._buckets.pop(key, (float(self.per_hour), now))
        level = min(float(self.per_hour), level + (now - stamp) * self._rate)
        allowed = size <= level
        self._buckets[key] = (level - size if allowed else level, now)
        while len(self._buckets) > KEYS_REMEMBERED:
            self._buckets.popitem(last=False)
        return allowed
