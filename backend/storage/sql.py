"""SQLAlchemy (async) store for SQLite and PostgreSQL, with one batching writer off the hot path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.broker import Envelope
from backend.storage.base import StorageError, Store, Window
from backend.storage.migrate import upgrade
from backend.storage.schema import messages

log = logging.getLogger("desafio.storage")

# Transient failures (a locked SQLite file, a PostgreSQL failover) are retried this many times,
# after these pauses, before the batch's authors get an error instead of an ack.
RETRY_PAUSES = (0.05, 0.25, 1.0)


class SqlStore(Store):
    def __init__(self, url: str, batch_size: int) -> None:
        self.url = url
        self.batch_size = batch_size
        self.engine: AsyncEngine | None = None
        self._queue: deque[tuple[Envelope, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._appended = 0
        self._finished = 0
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Alembic runs its own event loop; give it a thread of its own.
        await asyncio.to_thread(upgrade, self.url)
        self.engine = create_async_engine(self.url, pool_pre_ping=True)
        if make_url(self.url).get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._writer = asyncio.get_running_loop().create_task(self._write_forever())

    async def stop(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self.engine is not None:
            await self.engine.dispose()

    def append(self, envelope: Envelope) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((envelope, done))
        self._appended += 1
        self._wake.set()
        return done

    async def flush(self) -> None:
        target = self._appended
        async with self._progress:
            await self._progress.wait_for(lambda: self._finished >= target)

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                # Everything queued while the previous batch committed goes in one transaction:
                # the busier the room, the bigger (and cheaper per row) the batches.
                count = min(len(self._queue), self.batch_size)
                batch = [self._queue.popleft() for _ in range(count)]
                error = await self._insert([envelope for envelope, _ in batch])
                for _, done in batch:
                    if done.done():
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
                async with self._progress:
                    self._finished += count
                    self._progress.notify_all()

    async def _insert(self, batch: list[Envelope]) -> StorageError | None:
        assert self.engine is not None
        rows = [
            {"room": e.room, "id": e.id, "sender": e.sender, "text": e.text, "data": e.data,
             "ts": e.ts}
            for e in batch
        ]  # fmt: skip
        for pause in (*RETRY_PAUSES, None):
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(messages.insert(), rows)
                return None
            except Exception as exc:  # noqa: BLE001 - any database failure becomes a StorageError
                if pause is None:
                    log.error("storing %d messages failed: %s", len(rows), type(exc).__name__)
                    return StorageError("message could not be stored; retry with the same ref")
                log.warning("storing %d messages failed (%r); retrying", len(rows), exc)
                await asyncio.sleep(pause)
        return None  # pragma: no cover - the loop always returns

    async def read(self, room: str, window: Window) -> list[Envelope]:
        assert self.engine is not None
        query = select(messages).where(messages.c.room == room)
        if window.after is not None:
            query = query.where(messages.c.id > window.after)
        if window.before is not None:
            query = query.where(messages.c.id < window.before)
        # With `after`, the oldest after it (catching up); otherwise the newest (scrolling back).
        ascending = window.after is not None
        order = messages.c.id.asc() if ascending else messages.c.id.desc()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(order).limit(window.limit))).all()
        found = [_envelope(row._mapping) for row in rows]
        return found if ascending else found[::-1]

    async def bounds(self, room: str) -> tuple[int, int] | None:
        assert self.engine is not None
        query = select(func.min(messages.c.id), func.max(messages.c.id)).where(
            messages.c.room == room
        )
        async with self.engine.connect() as conn:
            low, high = (await conn.execute(query)).one()
        return None if low is None else (int(low), int(high))

    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        assert self.engine is not None
        deleted = 0
        async with self.engine.begin() as conn:
            if max_age_seconds > 0:
                cutoff = datetime.now(UTC) - timedelta(seconds=max_age_seconds)
                stamp = cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                deleted += (
                    await conn.execute(delete(messages).where(messages.c.ts < stamp))
                ).rowcount
            if max_per_room > 0:
                newest = select(messages.c.room, func.max(messages.c.id)).group_by(messages.c.room)
                for room, high in (await conn.execute(newest)).all():
                    keep_from = int(high) - max_per_room
                    stale = (messages.c.room == room) & (messages.c.id <= keep_from)
                    deleted += (await conn.execute(delete(messages).where(stale))).rowcount
        return deleted


def _envelope(row: Any) -> Envelope:
    return Envelope(
        room=row["room"], id=int(row["id"]), ts=row["ts"], sender=row["sender"],
        text=row["text"], data=row["data"], origin="",
    )  # fmt: skip


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets history reads run beside the writer; FULL makes each commit (one per batch)
    # survive power loss, which is what an ack promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
