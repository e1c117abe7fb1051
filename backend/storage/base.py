"""The message store interface: append in the background, read history, enforce retention."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass

from backend.broker import Envelope


class StorageError(Exception):
    """A message could not be stored; its author is told, and may retry with the same ref."""


@dataclass(frozen=True)
class Window:
    """What to read from a room: newest `limit` messages, optionally after and/or before an id."""

    limit: int
    after: int | None = None
    before: int | None = None


class Store(ABC):
    """Chosen by DATABASE_URL scheme. `append` never blocks the caller on the database."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Commit everything appended so far, then release the database."""

    @abstractmethod
    def append(self, envelope: Envelope) -> asyncio.Future[None]:
        """Queue a message; the future completes when its transaction committed (or fails)."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until everything appended before this call is committed or failed."""

    @abstractmethod
    async def read(self, room: str, window: Window) -> list[Envelope]:
        """Messages of `room` in `window`, oldest first."""

    @abstractmethod
    async def bounds(self, room: str) -> tuple[int, int] | None:
        """(oldest id, newest id) stored for `room`, or None when it has none."""

    @abstractmethod
    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        """Delete what retention no longer keeps (0 disables a rule); returns rows deleted."""
