"""Catching a subscriber up: history on join, or every message after `since`, then live.

The connection joins the room first and is marked as catching up, so the fan-out skips it
there. The replay then reads the store page by page, only up to the last id this instance has
fanned out in the room (first caught up, from the store, to at least the client's `since` and
the store's end as the plan read it: the broker may be late, or have lost a dead instance's
messages), waiting for the client to take each page (the same back-pressure as
live traffic), and hands over to live in the same event-loop step in which it reaches that id:
no gap and no duplicate at the seam, and at most one page in memory per subscriber.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.hub.connection import Connection, Mode, State
from backend.hub.outbound import payload
from backend.hub.sequencer import Sequencer
from backend.messages import Envelope
from backend.storage import Position, StorageError, Store, Window

log = logging.getLogger("desafio.hub")

# A replay page aims at this many bytes, so that a client that stops reading holds at most about
# this much per replay (in the page and in its socket's buffer), whatever its messages' size.
PAGE_BYTES = 128 * 1024
# Messages per store read: the first page, and the bounds of the ones sized from it. The first
# is small: its messages may be of the largest size (64 KiB each).
FIRST_PAGE, MIN_PAGE, MAX_PAGE = 4, 4, 500


@dataclass(frozen=True)
class Plan:
    """Where a replay starts, and what to tell the client before it."""

    start: int | None  # replay ids after this (None: no replay, live only)
    recovered: bool | None = None
    reason: str | None = None
    epoch: str | None = None
    history: int = 0  # with start None and history > 0: the newest `history` messages
    last: int = 0  # the store's last id when the plan was made: the replay reaches it at least


def begin(conn: Connection, room: str) -> None:
    """From now on the fan-out skips `conn` in `room` until `finish` hands over to live."""
    if conn.catching is None:
        conn.catching = set()
    conn.catching.add(room)


async def plan(
    store: Store, room: str, since: int | None, epoch: str | None, history: int, max_replay: int
) -> Plan:
    """Decide what to replay; with `since`, whether it is exactly what the client missed."""
    try:
        position = await store.position(room)
    except StorageError:
        if since is not None:
            return Plan(None, False, "storage_unavailable")
        return Plan(None, reason="storage_unavailable")
    if since is None:
        return Plan(None, epoch=position.epoch or None, history=history, last=position.last)
    return _recovery(position, since, epoch, max_replay)


def _recovery(position: Position, since: int, epoch: str | None, max_replay: int) -> Plan:
    current = position.epoch or None
    if epoch is not None and current is not None and epoch != current:
        return Plan(None, False, "epoch_changed", current)  # another log: the ids mean nothing
    if since > position.last:
        return Plan(None, False, "unknown_offset", current)  # never given out here
    if since < position.last and since + 1 < position.first:
        return Plan(None, False, "purged", current)  # retention deleted what it missed
    if position.last - since > max_replay:
        return Plan(None, False, "too_far_behind", current)
    return Plan(since, True, None, current, last=position.last)


async def run(store: Store, sequencer: Sequencer, conn: Connection, room: str, p: Plan) -> bool:
    """Send the replay, then hand over to live; False if it could not be completed (the store
    failed, or retention deleted messages while they were being replayed)."""
    try:
        return await _replay(store, sequencer, conn, room, p)
    finally:
        if conn.catching is not None:
            conn.catching.discard(room)
            if not conn.catching:
                conn.catching = None


async def _replay(store: Store, sequencer: Sequencer, conn: Connection, room: str, p: Plan) -> bool:
    position = p.start
    # A recovery must find every id after `since`; `history` takes what retention has left.
    exact = position is not None
    if position is None and p.history > 0:
        if not await sequencer.catch_up(room, p.last):
            return False
        newest = sequencer.last(room)
        if newest is None:
            return False
        # The newest `history` entries are the ids after this one (a room's ids are dense),
        # read in the same pages as a recovery: read whole, they were all in one client's
        # buffers at once, however few of them it read.
        position = max(newest - p.history, 0)
    if position is None:
        return True
    rows = FIRST_PAGE
    while room in conn.rooms:
        target = sequencer.last(room)
        if conn.state is not State.OPEN:
            return True
        if target is None or target < max(position, p.last):
            # This instance has not yet fanned out what the client has, or what the store held
            # when it asked (its feed is starting, or the broker is late or lost another
            # instance's messages): handed over now, live would repeat ids or skip some.
            if not await sequencer.catch_up(room, max(position, p.last)):
                return False
            continue
        # No await between this check and `run`'s hand-over: nothing can be fanned out between.
        if position >= target:
            return True
        try:
            async with sequencer.replay_reads:
                page = await store.read(room, Window(limit=rows, after=position, before=target + 1))
        except StorageError:
            return False
        if not exact and not page:
            return True  # retention deleted everything the history would have shown
        if not page or (exact and page[0].id != position + 1) or _holes(page):
            log.warning("room %s: replay found ids after %d missing", room, position)
            return False
        exact = True  # after the first entry found, every id must follow
        sent = _send(conn, page)
        position = page[-1].id
        rows = max(MIN_PAGE, min(MAX_PAGE, PAGE_BYTES * len(page) // max(sent, 1)))
        # Only the encoded page waits for the client: its envelopes (about three times the
        # bytes, as Python objects) are let go first. Kept, 290 replays held ~120 MiB.
        del page
        await conn.drained()
    return True


def _holes(page: list[Envelope]) -> bool:
    """Whether ids are missing inside `page` (a room's ids are dense: one must have been
    deleted under the replay); the client is told, not handed a gap as exact."""
    return page[-1].id - page[0].id != len(page) - 1


def _send(conn: Connection, page: list[Envelope]) -> int:
    """Deliver `page`; the bytes it took."""
    sent = 0
    text_mode = conn.mode is Mode.TEXT
    for envelope in page:
        item = payload(envelope, text_mode)
        if item is not None:
            conn.deliver(item)
            sent += len(item.data)
    return sent
