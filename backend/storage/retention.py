"""Retention: a background task that deletes what the configured age and count no longer keep.

Deleting takes the database's write lock, which every publish's commit needs too (SQLite has one
for the whole file): so retention deletes in short transactions of at most PURGE_CHUNK rows,
and finds the rooms over their count with a read that takes no lock. One statement per room in
one transaction held the lock for ~0.3 ms per room: 60,000 one-message rooms (cheap to make)
stopped every publish for 20 s each round, and failed some.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.protocol import utc_timestamp
from backend.storage.base import Store
from backend.storage.schema import messages

# Rows deleted per transaction: a few milliseconds of holding the write lock.
PURGE_CHUNK = 2_000

log = logging.getLogger("desafio.storage")


async def enforce_retention(
    store: Store, max_age_seconds: float, max_per_room: int, interval: float
) -> None:
    """Purge every `interval` seconds until cancelled; a failed round is logged and retried."""
    while True:
        try:
            deleted = await store.purge(max_age_seconds, max_per_room)
            if deleted:
                log.info("retention deleted %d messages", deleted)
        except Exception:  # a database hiccup must not end retention for the process's life
            log.exception("retention round failed")
        await asyncio.sleep(interval)


async def purge_sql(engine: AsyncEngine, max_age_seconds: float, max_per_room: int) -> int:
    """Delete messages older than `max_age_seconds` and all but the newest `max_per_room` of
    each room (0 disables a rule), PURGE_CHUNK rows per transaction; returns rows deleted."""
    deleted = 0
    if max_age_seconds > 0:
        stamp = utc_timestamp(datetime.now(UTC) - timedelta(seconds=max_age_seconds))
        deleted += await _in_chunks(engine, messages.c.ts < stamp)
    if max_per_room > 0:
        # Ids are dense in a room (entries of its log): over the count is first <= last - count.
        extent = select(messages.c.room, func.min(messages.c.id), func.max(messages.c.id))
        async with engine.connect() as conn:
            rooms = (await conn.execute(extent.group_by(messages.c.room))).all()
        for room, first, last in rooms:
            if int(first) <= int(last) - max_per_room:
                stale = (messages.c.room == room) & (messages.c.id <= int(last) - max_per_room)
                deleted += await _in_chunks(engine, stale)
    return deleted


async def _in_chunks(engine: AsyncEngine, condition: Any) -> int:
    deleted = 0
    # Oldest first, in each room: a round cut short (a restart, a lock) must leave every room's
    # log whole from its lowest id on, which `position` and recovery take as its start. Without
    # the order, PostgreSQL picked rows by heap order, and a cut left holes in the middle.
    chunk = (
        select(messages.c.room, messages.c.id)
        .where(condition)
        .order_by(messages.c.room, messages.c.id)
        .limit(PURGE_CHUNK)
    )
    while True:
        async with engine.begin() as conn:
            gone = (
                await conn.execute(
                    delete(messages).where(tuple_(messages.c.room, messages.c.id).in_(chunk))
                )
            ).rowcount
        deleted += gone
        if gone < PURGE_CHUNK:
            return deleted
        await _between_chunks()


async def _between_chunks() -> None:
    await asyncio.sleep(0)  # the writer may take the lock between two chunks
