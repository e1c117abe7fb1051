"""`GET /rooms/{room}/messages`: a room's stored history, oldest to newest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.auth.http import AuthDep, OptionalIdentityDep, check_room_read
from backend.deps import HubDep
from backend.protocol import ROOM_PATTERN
from backend.storage import Window

router = APIRouter()

MAX_LIMIT = 500


@router.get("/rooms/{room}/messages")
async def room_messages(
    hub: HubDep,
    auth: AuthDep,
    viewer: OptionalIdentityDep,
    room: Annotated[str, Path(pattern=ROOM_PATTERN, description="Room name")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many")] = 50,
    before: Annotated[int | None, Query(ge=0, description="Only ids below this")] = None,
    after: Annotated[int | None, Query(ge=0, description="Only ids above this")] = None,
) -> dict[str, Any]:
    """With `after`: the oldest messages after it (catching up); otherwise the newest
    (before `before`, when given). Either way the list is oldest first. Unknown room: empty.
    Private rooms, and every room when AUTH_REQUIRED, need a bearer token (docs/security.md)."""
    check_room_read(auth, viewer, room)
    found = await hub.store.read(room, Window(limit=limit, after=after, before=before))
    return {"room": room, "messages": [envelope.as_message() for envelope in found]}
