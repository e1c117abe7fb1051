"""One engine per database URL per process, and one migration step per URL per process.

The message store, the user store and the push store all live in the database DATABASE_URL
names. Each used to create its own engine (its own pool, its own SQLite settings) and run
Alembic; now they share one engine, created by the first that starts, disposed when the last
stops, and the migrations run once (under a lock shared with other instances: migrate.py).

One exception, on SQLite only: the message writer's own connection (`WriterThread`, below),
made with the same settings by the store that already holds the shared engine, after the
migrations. It is not a second store: it only writes the log, and exists because of where a
batch may wait (its docstring says why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, RootTransaction, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.storage.migrate import upgrade

_engines: dict[str, tuple[AsyncEngine, int]] = {}
_migrated: set[str] = set()


async def acquire(url: str) -> AsyncEngine:
    """The process's engine for `url`, migrated; pair every call with `release(url)`."""
    if url not in _migrated:
        await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop: a thread
        _migrated.add(url)
    engine, users = _engines.get(url) or (_create(url), 0)
    _engines[url] = (engine, users + 1)
    return engine


async def release(url: str) -> None:
    engine, users = _engines[url]
    if users > 1:
        _engines[url] = (engine, users - 1)
        return
    del _engines[url]
    await engine.dispose()


def _create(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=True)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets history reads run beside the writer; FULL makes each commit (one per batch)
    # survive power loss, which is what an ack promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class WriterThread:
    """SQLite's message writer: one connection, whose waits happen on a thread of its own.

    Through aiosqlite every statement, cursor, fetch and close of a batch was a hand-off to its
    thread and back (seventeen per batch), and each hand-off needs the GIL back from an event
    loop that is busy fanning out: under load a batch waited for the loop far longer than for
    the disk. Here only what can block goes to the thread: taking the write lock (`BEGIN
    IMMEDIATE`, which may wait for another writer) and the commit (the fsync). The statements
    in between run on the loop, where, holding the lock, they cannot wait for anything: a few
    hundred microseconds of SQL. Reads, users and push keep the shared async engine; WAL lets
    them run beside this writer.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(make_url(url).set(drivername="sqlite"))
        event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "connect", _driver_autocommit)
        # The transaction is SQLAlchemy's, begun as SQLite's IMMEDIATE: the lock is taken first.
        event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    async def begin(self) -> tuple[Connection, RootTransaction]:
        """A connection in a transaction that holds the write lock (taken on the thread)."""
        began = self._thread.submit(self._begin)
        try:
            return await asyncio.wrap_future(began)
        except asyncio.CancelledError:
            # Nobody will commit what the thread may still open: roll it back there, or it
            # would hold SQLite's write lock until the collector happened to free it.
            began.add_done_callback(self._abandon)
            raise

    async def commit(self, conn: Connection, trans: RootTransaction) -> None:
        """Commit (the fsync, on the thread) and give the connection back."""
        await asyncio.get_running_loop().run_in_executor(self._thread, _end, conn, trans.commit)

    @staticmethod
    def rollback(conn: Connection, trans: RootTransaction) -> None:
        """Roll back and give the connection back (nothing to sync: cheap enough for the loop)."""
        _end(conn, trans.rollback)

    def _abandon(self, began: Future[tuple[Connection, RootTransaction]]) -> None:
        if not began.cancelled() and began.exception() is None:
            self.rollback(*began.result())

    def _begin(self) -> tuple[Connection, RootTransaction]:
        conn = self.engine.connect()
        try:
            return conn, conn.begin()
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self._thread.submit(self.engine.dispose).result()
        self._thread.shutdown(wait=True)


def _end(conn: Connection, end: Callable[[], None]) -> None:
    try:
        end()
    finally:
        conn.close()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN (DEFERRED, at the first write) is turned off, so that the
    # "begin" listener's BEGIN IMMEDIATE is the only one.
    dbapi_connection.isolation_level = None
