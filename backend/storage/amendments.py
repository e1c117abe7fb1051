"""Edits and deletes reach the amended message's row in the transaction that logs them.

An amendment is an entry of the room's log like a message (so it is numbered, replayed with
`since` and carried to every instance); the amended row holds the outcome, so that history and
late joiners see the message as it is now. A deleted message stays deleted: an edit racing a
delete changes nothing (its log entry remains, and clients ignore an edit of a deleted message).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false
from sqlalchemy.engine import Connection

from backend.messages import Envelope
from backend.storage.schema import messages


def apply_amendments(conn: Connection, entries: Sequence[Envelope]) -> None:
    """Update the messages that fresh `entries` amend (within the caller's transaction)."""
    for entry in entries:
        if entry.kind == "message" or entry.target is None:
            continue
        row = and_(
            messages.c.room == entry.room,
            messages.c.id == entry.target,
            messages.c.kind == "message",
            messages.c.deleted == false(),
        )
        values: dict[str, Any]
        if entry.kind == "edit":
            values = {"text": entry.text, "edited_at": entry.ts}
        else:
            values = {"text": "", "data": None, "deleted": True}
        conn.execute(messages.update().where(row).values(**values))
