"""`GET /rooms/{room}/messages`: a room's stored history, oldest to newest, within two budgets.

Bytes: a page is read from the store a few rows at a time and stops once it holds
HISTORY_MAX_RESPONSE_BYTES of messages (always at least one), saying `truncated: true` and where
the next page starts (`next`). So `limit=500` of 64 KiB messages is not 32 MB in memory, nor on
the wire, per request. Concurrency: at most HISTORY_CONCURRENCY reads at once per process; more
get 503 with Retry-After at once, instead of queueing memory and database time for later.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request

from backend.auth.http import AuthDep, OptionalIdentityDep, check_room_read
from backend.deps import HubDep, SettingsDep
from backend.protocol import ROOM_PATTERN
from backend.storage import Store, Window

router = APIRouter()

MAX_LIMIT = 500
# Message ids are 64-bit signed integers in the store: a larger cursor is refused with 422.
MAX_ID = 2**63 - 1
# Rows per store read: a page holds at most this many messages it may not return.
CHUNK = 16


class ReadSlots:
    """How many history reads may run at once (one per process, kept on the app's state)."""

    def __init__(self, size: int) -> None:
        self.free = size

    @staticmethod
    def of(request: Request, size: int) -> ReadSlots:
        slots: ReadSlots | None = getattr(request.app.state, "history_reads", None)
        if slots is None:
            slots = request.app.state.history_reads = ReadSlots(size)
        return slots


async def read_page(
    store: Store, room: str, limit: int, after: int | None, before: int | None, budget: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` messages as the store's `read` would give them, but stopping once
    `budget` bytes (as JSON) are reached; whether it stopped early."""
    ascending = after is not None  # with `after`: the oldest after it; otherwise the newest
    page: list[dict[str, Any]] = []
    size = 0
    while len(page) < limit:
        window = Window(limit=min(CHUNK, limit - len(page)), after=after, before=before)
        rows = await store.read(room, window)
        for envelope in rows if ascending else reversed(rows):
            message = envelope.as_message()
            size += len(orjson.dumps(message))
            if page and size > budget:
                return (page if ascending else page[::-1]), True
            page.append(message)
            if ascending:
                after = envelope.id
            else:
                before = envelope.id
        if len(rows) < window.limit:
            break
    return (page if ascending else page[::-1]), False


@router.get("/rooms/{room}/messages")
async def room_messages(
    request: Request,
    hub: HubDep,
    settings: SettingsDep,
    auth: AuthDep,
    viewer: OptionalIdentityDep,
    room: Annotated[str, Path(pattern=ROOM_PATTERN, description="Room name")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many")] = 50,
    before: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Only ids below this")] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Only ids above this")] = None,
) -> dict[str, Any]:
    """With `after`: the oldest messages after it (catching up); otherwise the newest
    (before `before`, when given). Either way the list is oldest first. Unknown room: empty.
    Past HISTORY_MAX_RESPONSE_BYTES the page ends early with `truncated: true` and `next`, the
    query that continues it. Private rooms, and every room when AUTH_REQUIRED, need a bearer
    token (docs/security.md)."""
    check_room_read(auth, viewer, room)
    slots = ReadSlots.of(request, settings.history_concurrency)
    if slots.free <= 0:
        raise HTTPException(
            status_code=503,
            detail="too many history reads at once; retry shortly",
            headers={"Retry-After": "1"},
        )
    slots.free -= 1
    try:
        budget = settings.history_max_response_bytes
        page, truncated = await read_page(hub.store, room, limit, after, before, budget)
    finally:
        slots.free += 1
    answer: dict[str, Any] = {"room": room, "messages": page}
    if truncated:  # only then: a complete page looks as it always did
        answer["truncated"] = True
        # Catching up continues after the last message; scrolling back, before the first.
        answer["next"] = (
            {"after": page[-1]["id"]} if after is not None else {"before": page[0]["id"]}
        )
    return answer
