"""Publishing: idempotency by (sender id, room, ref), and the store's commit before anything else.

A ref names one operation of its sender in its room: a resend of that operation (the same kind,
on the same target) is answered with the first one's entry, and the ref used for anything else
(an edit with a publish's ref, another message's delete) is refused with `ref_reused`, so that an
ack always names the entry its frame asked for.

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
from backend.messages import Draft, Envelope, content_digest
from backend.storage import StorageError, Store

# What an entry costs the database besides its text and data: its room, ids, sender, ref,
# timestamp and index entries (~220 bytes measured in SQLite). Charged so that empty messages to
# endless new rooms fill the quota as surely as big ones.
ENTRY_BYTES = 256


def _size(text: str, data: dict[str, Any] | None) -> int:
    """What a message adds to the database, near enough."""
    return ENTRY_BYTES + len(text.encode()) + (len(orjson.dumps(data)) if data else 0)


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
        asked = content_digest(kind, target, text, data) if ref is not None else None
        if key is not None and (earlier := self.refs.get(key)) is not None:
            return _as_asked(earlier, kind, target, asked)
        if quota_key is not None and not self.quota.charge(quota_key, _size(text, data)):
            refused: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
            hour = self.quota.per_hour
            refused.set_exception(
                StorageError(f"over the quota of {hour} stored bytes per hour", "quota_exceeded")
            )
            return refused
        outcome = self.store.append(
            Draft(room, sender, text, data, origin, ref, kind, target, asked)
        )
        if key is not None:
            self.refs.remember(key, outcome)
            # Fresh, the entry is this operation; resolved by the store, it may be another's.
            return _as_asked(outcome, kind, target, asked)
        return outcome

    async def recall(
        self, sender: Sender, room: str, ref: str, kind: str, target: int | None, text: str = ""
    ) -> asyncio.Future[Envelope] | None:
        """The answer to a resend of an operation that can no longer be done again (the delete of
        a message it deleted): its first answer, from memory or the store; None if `ref` names
        nothing. StorageError when the store cannot be read."""
        earlier = self.refs.get((sender.id, room, ref))
        if earlier is None:
            entry = await self.store.find(room, sender.id, ref)
            if entry is None:
                return None
            earlier = asyncio.get_running_loop().create_future()
            earlier.set_result(entry)
        return _as_asked(earlier, kind, target, content_digest(kind, target, text, None))


def _as_asked(
    outcome: asyncio.Future[Envelope], kind: str, target: int | None, asked: str | None = None
) -> asyncio.Future[Envelope]:
    """`outcome`, or `ref_reused` if the entry its ref resolved to is another operation: another
    kind or target, or other content (`asked`: the resend's content_digest; entries stored
    before digests were kept are compared on kind and target alone)."""
    answer: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()

    def settle(done: asyncio.Future[Envelope]) -> None:
        if answer.done():
            return
        if done.cancelled():
            answer.cancel()
        elif (error := done.exception()) is not None:
            answer.set_exception(error)
        elif (entry := done.result()).kind != kind or entry.target != target:
            answer.set_exception(StorageError(_reused(entry), "ref_reused"))
        elif asked is not None and entry.digest is not None and entry.digest != asked:
            detail = f"this ref was already used for other content (id {entry.id}); use a new ref"
            answer.set_exception(StorageError(detail, "ref_reused"))
        else:
            answer.set_result(entry)

    outcome.add_done_callback(settle)
    return answer


def _reused(entry: Envelope) -> str:
    what = "a message" if entry.kind == "message" else f"the {entry.kind} of message {entry.target}"
    return f"this ref was already used for {what} (id {entry.id}); use a new ref"
