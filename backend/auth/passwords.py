"""Password rules and Argon2id hashing (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Usernames double as display names and room-policy keys: a short, unambiguous alphabet, and
# stored lowercase so that "Ana" cannot pose as "ana".
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
PASSWORD_MIN = 8
# Argon2 reads all of it: a cap keeps a megabyte "password" from being a cheap way to burn CPU.
PASSWORD_MAX = 128

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
# Verified against when the user does not exist, so that an unknown name costs as much time as
# a wrong password (no user enumeration by timing).
_DUMMY = _hasher.hash("no such user: this hash only spends the same time")


def normalize(username: str) -> str:
    return username.lower()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (None: no such user, always False)."""

    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored: str) -> bool:
    """The hash was made with weaker parameters than today's: store a new one at next login."""
    return _hasher.check_needs_rehash(stored)
