"""Login attempts and registrations: counted per key in fixed windows held in bounded memory.

A login attempt is counted *before* its password is checked (and taken back when it succeeds):
counting after the check let 30 concurrent wrong passwords all reach Argon2 and all get 401.

A key's window opens at its first failure and lasts `seconds`; at `limit` failures the key waits
until it closes. Each window is a pool of `capacity` keys in flat arrays allocated once (about
40 bytes a key), so a spray of new names and addresses cannot grow memory: a deque of float
timestamps per key cost about 1.9 KB. Windows close in the order they opened, so keys are kept
in that order and closed ones are dropped from the old end as new keys arrive.
"""

from __future__ import annotations

import math
import os
import time
from array import array
from hashlib import blake2b

# Keys a login window holds (users, and addresses). Every key a login creates costs an Argon2
# check (or is handed back when the hash budget refuses it), and at the default hashing budget
# far fewer than this fit in one window, so the cap is not reached before windows close.
MAX_KEYS = 100_000
_NONE = -1


class Window:
    """Failures per key in a window that opens at its first failure; over `limit` it waits."""

    def __init__(self, limit: int, seconds: float, capacity: int = MAX_KEYS) -> None:
        self.limit = limit
        self.seconds = seconds
        self.capacity = capacity
        # Keys are kept as a keyed digest: short, and an attacker who cannot compute it cannot
        # pick names that collide or that pile up in one probe run of the table.
        self._secret = os.urandom(16)
        # Per slot: digest, window start, failures, and links of a list oldest window first.
        self._digest = array("Q", bytes(8 * capacity))
        self._start = array("d", bytes(8 * capacity))
        self._count = array("I", bytes(4 * capacity))
        self._prev = array("i", [_NONE]) * capacity
        self._next = array("i", [_NONE]) * capacity  # also chains the free slots
        self._oldest = self._newest = self._free = _NONE
        self._used = self._size = 0
        # Open addressing, at most half full: digest -> slot.
        size = 1 << max(1, (2 * capacity - 1).bit_length())
        self._table = array("i", [_NONE]) * size
        self._mask = size - 1

    def __len__(self) -> int:
        return self._size

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        slot = self._table[self._find(self._key(key))]
        if slot == _NONE or self._count[slot] < self.limit:
            return 0.0
        return max(0.0, self._start[slot] + self.seconds - now)

    def fail(self, key: str, now: float) -> None:
        digest = self._key(key)
        self._expire(now)
        index = self._find(digest)
        slot = self._table[index]
        if slot != _NONE:  # open: every closed window was just dropped
            self._count[slot] += 1
            return
        if self._size == self.capacity:
            # The oldest window is the one that closes soonest, so it forgets the least; to
            # push out a younger one an attacker must open `capacity` windows after it.
            self._remove(self._find(self._digest[self._oldest]))
            index = self._find(digest)
        slot = self._take_slot()
        self._digest[slot], self._start[slot], self._count[slot] = digest, now, 1
        self._table[index] = slot
        self._append(slot)

    def clear(self, key: str) -> None:
        index = self._find(self._key(key))
        if self._table[index] != _NONE:
            self._remove(index)

    def undo(self, key: str, stamp: float) -> None:
        """Take back one counted event (a login attempt that turned out to be right)."""
        index = self._find(self._key(key))
        slot = self._table[index]
        if slot == _NONE or stamp < self._start[slot]:
            return  # counted in a window that has closed since
        self._count[slot] -= 1
        if self._count[slot] == 0:
            self._remove(index)

    def _key(self, key: str) -> int:
        digest = blake2b(key.encode(), digest_size=8, key=self._secret).digest()
        return int.from_bytes(digest, "little")

    def _find(self, digest: int) -> int:
        """The table index holding `digest`, or the empty one where it would go."""
        table, digests, mask = self._table, self._digest, self._mask
        index = digest & mask
        while (slot := table[index]) != _NONE and digests[slot] != digest:
            index = (index + 1) & mask
        return index

    def _expire(self, now: float) -> None:
        while self._oldest != _NONE and self._start[self._oldest] + self.seconds <= now:
            self._remove(self._find(self._digest[self._oldest]))

    def _remove(self, index: int) -> None:
        table, digests, mask = self._table, self._digest, self._mask
        slot = table[index]
        self._unlink(slot)
        self._next[slot], self._free = self._free, slot
        self._size -= 1
        # Backward-shift deletion: later entries of the probe run move into the hole, so that
        # lookups never meet a gap before their entry (and no tombstones accumulate).
        hole = probe = index
        while True:
            probe = (probe + 1) & mask
            moved = table[probe]
            if moved == _NONE:
                break
            if (probe - (digests[moved] & mask)) & mask >= (probe - hole) & mask:
                table[hole], hole = moved, probe  # its home is not between the hole and it
        table[hole] = _NONE

    def _take_slot(self) -> int:
        self._size += 1
        if self._free != _NONE:
            slot, self._free = self._free, self._next[self._free]
            return slot
        self._used += 1
        return self._used - 1

    def _append(self, slot: int) -> None:
        self._prev[slot], self._next[slot] = self._newest, _NONE
        if self._newest == _NONE:
            self._oldest = slot
        else:
            self._next[self._newest] = slot
        self._newest = slot

    def _unlink(self, slot: int) -> None:
        before, after = self._prev[slot], self._next[slot]
        if before == _NONE:
            self._oldest = after
        else:
            self._next[before] = after
        if after == _NONE:
            self._newest = before
        else:
            self._prev[after] = before


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

    def refused(self, username: str, address: str, stamp: float) -> None:
        """Take back an attempt whose password was never checked (the hash budget refused it),
        so that cheap 503s neither spend a user's budget nor fill the windows with keys."""
        self.users.undo(username, stamp)
        self.addresses.undo(address, stamp)


class RegistrationLimiter:
    """Registrations per address and in total per window (each costs an Argon2 hash)."""

    def __init__(self, per_address: int, total: int, seconds: float = 3600.0) -> None:
        # An address is counted only while the total allows it, and a window's span meets at
        # most two total windows: 2 x total keys are never full, so none is ever evicted.
        self.addresses = Window(per_address, seconds, capacity=min(2 * total, MAX_KEYS))
        self.everyone = Window(total, seconds, capacity=1)

    def attempt(self, address: str) -> int:
        """0 (counted: go ahead) or whole seconds to wait."""
        now = time.monotonic()
        wait = max(self.addresses.retry_after(address, now), self.everyone.retry_after("", now))
        if wait > 0:
            return math.ceil(wait)
        self.addresses.fail(address, now)
        self.everyone.fail("", now)
        return 0
