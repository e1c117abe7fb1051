"""Publishing: idempotency by (sender id, room, ref), and the store's commit before anything else.

A message is numbered in the transaction that stores it and fanned out only after its commit
(backend/storage/writer.py, docs/decisions.md): what any client sees is in the log, and its id is
never given to another message.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from backend.config import Settings
from backend.hub.quota import StoredBytesQuota
from backend.hub.refs import RecentRefs
from backend.identity import Sender
from backend.messages import Draft, Envelope
from backend.storage import StorageError, Store


def _size(text: str, data: dict[str, Any] | None) -> int:
    """What a message adds to the database, near enough (its text and its data as JSON)."""
    return len(text.encode()) + (len(orjson.dumps(data)) if data else 0)


class Publisher:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self.refs = RecentRefs(settings.idempotency_window_seconds, settings.idempotency_max_refs)
        self.quota = StoredBytesQuota(settings.stored_bytes_per_hour)

    def publish(
        self,
        sender: Sender,
        origin: str,
        room: str,
        text: str,
        data: dict[str, Any] | None,
        ref: str | None,
        kind: str = "message",
        target: int | None = None,
        quota_key: str | None = None,
    ) -> asyncio.Future[Envelope]:
        """Store `sender`'s message (`origin`: its connection's key, never echoed back to it).

        The future completes with the committed envelope, or fails with StorageError. The
        fan-out follows the commit (Hub.committed), not this call.

        A (sender, room, ref) still in flight or recently answered here gets the same future;
        an older one is resolved by the store, which keeps every stored message's ref.
        """
        key = (sender.id, room, ref) if ref is not None else None
        if key is not None and (earlier := self.refs.get(key)) is not None:
            return earlier
        if quota_key is not None and not self.quota.charge(quota_key, _size(text, data)):
            refused: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
            hour = self.quota.per_hour
            refused.set_exception(
                StorageError(f"over the quota of {hour} stored bytes per hour", "quota_exceeded")
            )
            return refused
        outcome = self.store.append(Draft(room, sender, text, data, origin, ref, kind, target))
        if key is not None:
            self.refs.remember(key, outcome)
        return outcome
