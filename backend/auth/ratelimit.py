"""Login attempts and registrations: counted per key in sliding windows.

A login attempt is counted *before* its password is checked (and taken back when it succeeds):
counting after the check let 30 concurrent wrong passwords all reach Argon2 and all get 401.
"""

from __future__ import annotations

import contextlib
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

    def undo(self, key: str, stamp: float) -> None:
        """Take back one counted event (a login attempt that turned out to be right)."""
        failures = self._failures.get(key)
        if failures is not None:
            with contextlib.suppress(ValueError):
                failures.remove(stamp)


class LoginLimiter:
    """Says how long a login for (username, address) must wait: the longer of the two."""

    def __init__(self, per_user: int, per_address: int, seconds: float) -> None:
        self.users = Window(per_user, seconds)
        self.addresses = Window(per_address, seconds)

    def attempt(self, username: str, address: str) -> tuple[int, float]:
        """Count an attempt now, before the password is checked: (0, stamp) to go ahead, or
        (whole seconds to wait, 0) without counting it. No await between check and count."""
        now = time.monotonic()
        wait = max(self.users.retry_after(username, now), self.addresses.retry_after(address, now))
        if wait > 0:
            return math.ceil(wait), 0.0
        self.users.fail(username, now)
        self.addresses.fail(address, now)
        return 0, now

    def succeeded(self, username: str, address: str, stamp: float) -> None:
        # The username's failures go; the address keeps its failures (one good account must
        # not launder guesses at others) but not this attempt, which was right.
        self.users.clear(username)
        self.addresses.undo(address, stamp)


class RegistrationLimiter:
    """Registrations per address and in total per window (each costs an Argon2 hash)."""

    def __init__(self, per_address: int, total: int, seconds: float = 3600.0) -> None:
        self.addresses = Window(per_address, seconds)
        self.everyone = Window(total, seconds)

    def attempt(self, address: str) -> int:
        """0 (counted: go ahead) or whole seconds to wait."""
        now = time.monotonic()
        wait = max(self.addresses.retry_after(address, now), self.everyone.retry_after("", now))
        if wait > 0:
            return math.ceil(wait)
        self.addresses.fail(address, now)
        self.everyone.fail("", now)
        return 0
