"""SQLAlchemy (async) store for SQLite and PostgreSQL, with one batching writer off the hot path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.messages import Draft, Envelope
from backend.storage.base import Position, StorageError, Store, Window
from backend.storage.engine import acquire, release
from backend.storage.retention import purge_sql
from backend.storage.rows import envelope_of
from backend.storage.schema import log_meta, messages, room_log
from backend.storage.writer import Item, Writer
from backend.tasks import supervise

log = logging.getLogger("desafio.storage")


class SqlStore(Store):
    def __init__(self, url: str, batch_size: int) -> None:
        self.url = url
        self.batch_size = batch_size
        self.engine: AsyncEngine | None = None
        self._queue: deque[Item] = deque()
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._appended = 0
        self._finished = 0
        self._writer: asyncio.Task[None] | None = None
        self._committer: Writer | None = None

    async def start(self) -> None:
        self.engine = await acquire(self.url)
        async with self.engine.connect() as conn:
            query = select(log_meta.c.value).where(log_meta.c.key == "epoch")
            self.epoch = str((await conn.execute(query)).scalar_one())
        self._committer = Writer(self.engine)
        self._writer = supervise("store-writer", self._write_forever)

    async def stop(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._committer is not None:
            self._committer.close()
            self._committer = None
        if self.engine is not None:
            self.engine = None
            await release(self.url)

    def append(self, draft: Draft) -> asyncio.Future[Envelope]:
        done: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._queue.append((draft, done))
        self._appended += 1
        self._wake.set()
        return done

    async def flush(self) -> None:
        target = self._appended
        async with self._progress:
            await self._progress.wait_for(lambda: self._finished >= target)

    async def _write_forever(self) -> None:
        assert self._committer is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                # Everything queued while the previous batch committed goes in one transaction:
                # the busier the room, the bigger (and cheaper per row) the batches.
                count = min(len(self._queue), self.batch_size)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    fresh = await self._committer.commit(batch)
                    if fresh and self.on_commit is not None:
                        self.on_commit(fresh)
                except Exception:  # a bug here must not stop storage for everyone
                    log.exception("the store writer failed on a batch")
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(StorageError("internal error while storing"))
                async with self._progress:
                    self._finished += count
                    self._progress.notify_all()

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
        try:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query.order_by(order).limit(window.limit))).all()
        except Exception as exc:
            raise _unavailable(exc) from exc
        found = [envelope_of(row._mapping) for row in rows]
        return found if ascending else found[::-1]

    async def find(self, room: str, sender_id: str, ref: str) -> Envelope | None:
        assert self.engine is not None
        query = select(messages).where(
            messages.c.room == room, messages.c.sender_id == sender_id, messages.c.ref == ref
        )
        try:
            async with self.engine.connect() as conn:
                row = (await conn.execute(query)).first()
        except Exception as exc:
            raise _unavailable(exc) from exc
        return None if row is None else envelope_of(row._mapping)

    async def position(self, room: str) -> Position:
        assert self.engine is not None
        oldest = select(func.min(messages.c.id)).where(messages.c.room == room)
        log_row = select(room_log.c.last_id).where(room_log.c.room == room)
        try:
            async with self.engine.connect() as conn:
                first = (await conn.execute(oldest)).scalar()
                row = (await conn.execute(log_row)).first()
        except Exception as exc:
            raise _unavailable(exc) from exc
        if row is None:
            return Position(first=1, last=0, epoch=self.epoch)
        last = int(row.last_id)
        return Position(first=int(first) if first is not None else last + 1, last=last,
                        epoch=self.epoch)  # fmt: skip

    async def purge(self, max_age_seconds: float, max_per_room: int) -> int:
        assert self.engine is not None
        return await purge_sql(self.engine, max_age_seconds, max_per_room)


def _unavailable(exc: Exception) -> StorageError:
    log.warning("reading the store failed: %s", type(exc).__name__)
    return StorageError("the message store is unavailable; retry later", "storage_unavailable")
