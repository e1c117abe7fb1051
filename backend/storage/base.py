"""The message store interface: the room logs that number, keep and replay messages.

The store is the hub's one source of truth about ids (docs/decisions.md, "the log numbers"): an
id is given to a message in the transaction that commits it, the next id of a room is always one
more than the last, and only committed messages are ever fanned out.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from backend.messages import Draft, Envelope


class StorageError(Exception):
    """A message could not be stored, or the store cannot be read now.

    `code` is what the client is told: `storage_failed` (not stored: retry with the same ref),
    `outcome_unknown` (the commit's answer was lost: resend with the same ref to learn the id),
    `invalid_data` (this message can never be stored), `storage_unavailable` (reads); and, decided
    before the store, `quota_exceeded` and `ref_reused` (backend.hub.publishing).
    """

    def __init__(self, detail: str, code: str = "storage_failed") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Window:
    """What to read from a room: newest `limit` messages, optionally after and/or before an id."""

    limit: int
    after: int | None = None
    before: int | None = None


@dataclass(frozen=True)
class Position:
    """Where a room's log stands: ids `first`..`last` are stored (none when first > last), ids
    up to `last` were given out, and `epoch` names this log."""

    first: int
    last: int
    epoch: str


# Called with freshly committed messages, in commit order (so in id order within a room).
CommitListener = Callable[[list[Envelope]], None]


class Store(ABC):
    """Chosen by DATABASE_URL scheme. `append` never blocks the caller on the database."""

    on_commit: CommitListener | None = None
    # Names the whole log (every room's ids); "" until the store has started.
    epoch: str = ""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Commit everything appended so far, then release the database."""

    @abstractmethod
    def append(self, draft: Draft) -> asyncio.Future[Envelope]:
        """Queue a message; the future completes with its committed envelope (for a ref this
        sender already used in this room: the stored one, not a copy), or fails with
        StorageError. Fresh envelopes also go to `on_commit`."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until everything appended before this call is committed or failed."""

    @abstractmethod
    async def read(self, room: str, window: Window) -> list[Envelope]:
        """Messages of `room` in `window`, oldest first; StorageError when unreachable."""

    @abstractmethod
    async def find(self, room: str, sender_id: str, ref: str) -> Envelope | None:
        """The entry `sender_id` stored in `room` under `ref`, if it is still kept;
        StorageError when unreachable."""

    @abstractmethod
    async def position(self, room: str) -> Position:
        """The room's log position; StorageError when unreachable."""

    @abstractmethod
    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        """Delete what retention no longer keeps (0 disables a rule); returns rows deleted.
        Ids are never given out again: the room's `last` stays."""
