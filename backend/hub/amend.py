"""Edits and deletes: who may amend a message, and how the amendment enters the room's log.

Only the message's author (by sender id, never by name) or an admin may amend it. The amendment
is then published like a message, as an entry of the room's log (`kind` "edit" or "delete"):
it is numbered, stored with the amended row updated in the same transaction, fanned out only
after its commit, carried to every instance by the broker, and replayed with `since`; the `ack`
answering it carries the entry's id. See docs/decisions.md.
"""

from __future__ import annotations

import asyncio

from backend.hub.connection import Connection
from backend.hub.publishing import Publisher
from backend.messages import Envelope
from backend.protocol import Delete, Edit, ProtocolError
from backend.storage import StorageError, Store, Window


async def amend(
    store: Store, publisher: Publisher, conn: Connection, frame: Edit | Delete, admin: bool
) -> asyncio.Future[Envelope]:
    """Check that `conn` may amend message `frame.id`, then log the amendment."""
    try:
        window = Window(limit=1, after=frame.id - 1, before=frame.id + 1)
        found = await store.read(frame.room, window)
    except StorageError as exc:
        raise ProtocolError(exc.code, exc.detail, frame.ref) from None
    target = found[0] if found and found[0].id == frame.id else None
    kind, text = ("edit", frame.text) if isinstance(frame, Edit) else ("delete", "")
    if target is None or target.kind != "message" or target.deleted:
        # A resend of the delete that did this (its ack lost) is answered as the first was.
        if frame.ref is not None and (done := await _resent(publisher, conn, frame, kind, text)):
            return done
        raise ProtocolError("not_found", f"no message {frame.id} in {frame.room!r}", frame.ref)
    if target.sender_id != conn.sender.id and not admin:
        raise ProtocolError(
            "forbidden", "only the message's author (or an admin) may change it", frame.ref
        )
    # An edit's text is stored too: it counts against the author's stored-bytes quota.
    return publisher.publish(
        conn.sender, conn.key, frame.room, text, None, frame.ref,
        kind=kind, target=frame.id, quota_key=conn.quota_key,
    )  # fmt: skip


async def _resent(
    publisher: Publisher, conn: Connection, frame: Edit | Delete, kind: str, text: str
) -> asyncio.Future[Envelope] | None:
    assert frame.ref is not None
    try:
        return await publisher.recall(conn.sender, frame.room, frame.ref, kind, frame.id, text)
    except StorageError as exc:
        raise ProtocolError(exc.code, exc.detail, frame.ref) from None
