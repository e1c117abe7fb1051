"""Edits and deletes reach the amended message's row in the transaction that logs them.

An amendment is an entry of the room's log like a message (so it is numbered, replayed with
`since` and carried to every instance); the amended row holds the outcome, so that history and
late joiners see the message as it is now. A deleted message stays deleted: an edit racing a
delete changes nothing (its log entry remains, and clients ignore an edit of a deleted message).

A delete removes the message's text everywhere the log keeps it: from its row, and from the
`edited` entries that carried its later versions (history and replays show them). An edit that
lands after the delete (checked before the delete committed) is stored without its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false
from sqlalchemy.engine import Connection

from backend.messages import Envelope
from backend.storage.schema import messages


def apply_amendments(conn: Connection, entries: Sequence[Envelope]) -> set[tuple[str, int]]:
    """Update the messages that fresh `entries` amend (within the caller's transaction); returns
    the (room, id) of entries among them whose text is gone (edits of a deleted message)."""
    blanked: set[tuple[str, int]] = set()
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
        amended = conn.execute(messages.update().where(row).values(**values)).rowcount
        edits = and_(
            messages.c.room == entry.room,
            messages.c.target == entry.target,
            messages.c.kind == "edit",
        )
        if entry.kind == "delete":
            conn.execute(messages.update().where(edits).values(text=""))
            blanked.update((entry.room, e.id) for e in entries if _edit_of(e, entry))
        elif not amended:  # the message was deleted first (or is not one): keep no text
            conn.execute(
                messages.update()
                .where(messages.c.room == entry.room, messages.c.id == entry.id)
                .values(text="")
            )
            blanked.add((entry.room, entry.id))
    return blanked


def _edit_of(entry: Envelope, delete: Envelope) -> bool:
    return entry.kind == "edit" and entry.room == delete.room and entry.target == delete.target
