"""A log entry as a `messages` row, and back."""

from __future__ import annotations

from typing import Any

from backend.messages import Envelope


def row_of(e: Envelope) -> dict[str, Any]:
    """The `messages` row that stores an envelope."""
    return {
        "room": e.room, "id": e.id, "sender": e.sender, "sender_id": e.sender_id,
        "text": e.text, "data": e.data, "ts": e.ts, "ref": e.ref, "kind": e.kind,
        "target": e.target, "digest": e.digest,
    }  # fmt: skip


def envelope_of(row: Any) -> Envelope:
    """A stored row as an envelope (origin unknown: it is no longer anyone's echo)."""
    target = row["target"]
    return Envelope(
        room=row["room"], id=int(row["id"]), ts=row["ts"], sender=row["sender"],
        sender_id=row["sender_id"] or "", text=row["text"], data=row["data"], origin="",
        ref=row["ref"], kind=row["kind"] or "message",
        target=int(target) if target is not None else None, edited_at=row["edited_at"],
        deleted=bool(row["deleted"]), digest=row.get("digest"),
    )  # fmt: skip
