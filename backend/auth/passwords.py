"""Password rules and Argon2id hashing (argon2-cffi), off the event loop, within a budget."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.auth.names import USERNAME_PATTERN, normalize_username

__all__ = ["USERNAME_PATTERN", "HashBudget", "HashBusy", "normalize"]

PASSWORD_MIN = 8
# Argon2 reads all of it: a cap keeps a megabyte "password" from being a cheap way to burn CPU.
PASSWORD_MAX = 128
# Seconds a client told "busy" is asked to wait (Retry-After).
BUSY_RETRY_SECONDS = 2

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults

T = TypeVar("T")


def normalize(username: str) -> str:
    return normalize_username(username)


@functools.cache
def _dummy() -> str:
    """Verified against when the user does not exist, so that an unknown name costs as much time
    as a wrong password (no user enumeration by timing). Made on first use, in a hashing thread:
    hashing it at import cost every process start (each test server) ~0.1 s of one core. Two
    threads racing on the very first call may each make one; either hash serves."""
    return _hasher.hash("no such user: this hash only spends the same time")


class HashBusy(Exception):
    """Every hashing slot and every queue place is taken: answer 503 with Retry-After."""

    retry_after = BUSY_RETRY_SECONDS


class HashBudget:
    """Argon2 work at most `concurrency` at once (each hash holds ~64 MiB and a core), and at
    most `queue` more waiting; one more is refused at once instead of piling up memory."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="argon2")
        self._admitted = 0  # running plus waiting

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self.concurrency + self.queue:
            raise HashBusy
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self._admitted -= 1

    async def hash_password(self, password: str) -> str:
        return await self.run(lambda: _hasher.hash(password))

    async def verify_password(self, stored: str | None, password: str) -> bool:
        """True when `password` matches `stored` (None: no such user, always False)."""

        def check() -> bool:
            try:
                return _hasher.verify(stored or _dummy(), password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self.run(check)


def needs_rehash(stored: str) -> bool:
    """The hash was made with weaker parameters than today's: store a new one at next login."""
    return _hasher.check_needs_rehash(stored)
