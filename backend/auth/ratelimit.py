"""Login attempts: failures counted per username and per client address in a sliding window."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

# Keys remembered at most (each side): an attacker spraying names cannot grow memory unbounded.
MAX_KEYS = 100_000


class Window:
    """Failures per key within the last `seconds`; over `limit` the key must wait."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - self.seconds:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0.0
        if len(failures) < self.limit:
            return 0.0
        return failures[0] + self.seconds - now

    def fail(self, key: str, now: float) -> None:
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque()
            if len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        failures.append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class LoginLimiter:
    """Says how long a login for (username, address) must wait: the longer of the two."""

    def __init__(self, per_user: int, per_address: int, seconds: float) -> None:
        self.users = Window(per_user, seconds)
        self.addresses = Window(per_address, seconds)

    def retry_after(self, username: str, address: str) -> int:
        """Whole seconds to wait (0: go ahead), for a Retry-After header."""
        now = time.monotonic()
        wait = max(self.users.retry_after(username, now), self.addresses.retry_after(address, now))
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        self.users.fail(username, now)
        self.addresses.fail(address, now)

    def succeeded(self, username: str) -> None:
        # The address keeps its count: one good account must not launder guesses at others.
        self.users.clear(username)
