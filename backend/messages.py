"""A message's two shapes: the draft a client sent, and the envelope the log committed.

Pure data with no dependencies inside the hub, so that the store, the broker and the fan-out can
all speak of messages without importing one another.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from backend.identity import GUEST_PREFIX, Sender


def content_digest(kind: str, target: int | None, text: str, data: dict[str, Any] | None) -> str:
    """What one operation asked for, in 32 hex digits: a resend of its ref must ask the same
    (backend/hub/publishing.py), whatever later edits or deletes did to the stored row."""
    asked = orjson.dumps([kind, target, text, data], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(asked, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as a client sent it, before the store gives it its id in the room's log."""

    room: str
    sender: Sender
    text: str
    data: dict[str, Any] | None
    # `instance:connection` of the sender, so that no instance echoes it back to its author.
    origin: str
    ref: str | None = None
    # "message", or an amendment of message `target` by its author or an admin ("edit": `text`
    # replaces its text; "delete"): amendments are entries of the same log (docs/decisions.md).
    kind: str = "message"
    target: int | None = None
    # Its content_digest when it has a ref (only a ref can be resent), stored with it:
    # computed once, by backend.hub.publishing, which compares it with a resend's.
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A committed message: `id` increases by one within `room`, in the order every subscriber
    sees, and names this message forever (docs/protocol.md, "Guarantees")."""

    room: str
    id: int
    ts: str
    sender: str
    sender_id: str
    text: str
    data: dict[str, Any] | None
    origin: str
    ref: str | None = None
    # or "edit" / "delete" of message `target` (see Draft); or "typing", a notice the broker
    # carries but no log holds (id 0, never stored, never sequenced)
    kind: str = "message"
    target: int | None = None
    # A stored message's state after later amendments (history and replay show it).
    edited_at: str | None = None
    deleted: bool = False
    # The content_digest of the operation its ref asked for (None without a ref, or stored
    # before migration 0008).
    digest: str | None = None

    def as_message(self) -> dict[str, Any]:
        """The server object for this log entry: `message`, `edited` or `deleted`."""
        if self.kind != "message":
            amendment: dict[str, Any] = {
                "type": "edited" if self.kind == "edit" else "deleted",
                "id": self.id,
                "room": self.room,
                "target": self.target,
                "sender": self.sender,
                "sender_id": self.sender_id,
                "guest": self.sender_id.startswith(GUEST_PREFIX),
                "ts": self.ts,
            }
            if self.kind == "edit":
                amendment["text"] = self.text
            return amendment
        message: dict[str, Any] = {
            "type": "message",
            "id": self.id,
            "room": self.room,
            "sender": self.sender,
            "sender_id": self.sender_id,
            "guest": self.sender_id.startswith(GUEST_PREFIX),
            "text": self.text,
            "data": self.data,
            "ts": self.ts,
        }
        if self.edited_at is not None:
            message["edited_at"] = self.edited_at
        if self.deleted:
            message["deleted"] = True
        return message


@dataclass(frozen=True, slots=True)
class Resync:
    """The broker may have lost messages of other instances (an outage, a stall): every
    subscribed room must be read again from the store after what it delivered last."""


__all__ = ["Draft", "Envelope", "Resync"]
