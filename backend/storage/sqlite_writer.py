"""SQLite's message writer: one connection of its own, and where each of its waits happens.

The log's transaction (backend.storage.writer) is synchronous SQLAlchemy Core. On PostgreSQL it
runs through the async engine. On SQLite it used to run through aiosqlite, where every
statement, cursor, fetch and close of a batch was a hand-off to aiosqlite's thread and back
(seventeen per batch), and each hand-off needs the GIL back from an event loop that is busy
fanning out: under load, a batch waited for the loop far longer than for the disk.

Here the statements run on the loop: holding the write lock, they cannot wait for anything (a
few hundred microseconds of SQL). Only two steps can block:

- **The write lock** (`BEGIN IMMEDIATE`) is first tried on the loop with no busy timeout: when
  no other writer (users, push, retention, another instance) holds it, that is all it takes,
  ~50 us. A held lock is waited for on the thread, within SQLite's busy timeout.
- **The commit** is the fsync: on the thread, so that a slow disk never holds the loop. (Made
  on the loop instead when the disk's last commit was fast, it gave no steady gain that
  alternating bench runs could tell from their noise: docs/performance.md.)

Reads, users and push keep the shared async engine (backend.storage.engine); WAL lets them run
beside this writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, RootTransaction, make_url

from backend.storage.engine import BUSY_TIMEOUT_MS, sqlite_pragmas


class SqliteWriter:
    """The writer's connection: `begin` holds the write lock, `commit` makes it durable."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(make_url(url).set(drivername="sqlite"))
        event.listen(self.engine, "connect", sqlite_pragmas)
        event.listen(self.engine, "connect", _driver_autocommit)
        # SQLAlchemy's begin comes after `_lock` has begun SQLite's IMMEDIATE transaction.
        event.listen(self.engine, "begin", _locked_first)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    async def begin(self) -> tuple[Connection, RootTransaction]:
        """A connection in a transaction that holds the write lock."""
        conn = self.engine.connect()
        try:
            if not _lock(conn, wait=False):
                await self._lock_on_thread(conn)
            return conn, conn.begin()
        except asyncio.CancelledError:
            raise  # the connection is the thread's until it has the lock (_lock_on_thread)
        except BaseException:
            conn.close()
            raise

    async def _lock_on_thread(self, conn: Connection) -> None:
        locked = self._thread.submit(_lock, conn, True)
        try:
            await asyncio.wrap_future(locked)
        except asyncio.CancelledError:
            # Nobody will commit what the thread may still lock: release it there, or it
            # would hold SQLite's write lock until the collector happened to free it.
            locked.add_done_callback(lambda _: _release(conn))
            raise

    async def commit(self, conn: Connection, trans: RootTransaction) -> None:
        """Commit (the fsync, on the thread) and give the connection back."""
        await asyncio.get_running_loop().run_in_executor(self._thread, _end, conn, trans.commit)

    @staticmethod
    def rollback(conn: Connection, trans: RootTransaction) -> None:
        """Roll back and give the connection back (nothing to sync: cheap enough for the loop)."""
        _end(conn, trans.rollback)

    def close(self) -> None:
        self._thread.submit(self.engine.dispose).result()
        self._thread.shutdown(wait=True)


def _lock(conn: Connection, wait: bool) -> bool:
    """`BEGIN IMMEDIATE` on the driver's connection: False if another writer holds the lock and
    `wait` is False; with `wait`, SQLite's busy timeout bounds the wait (then it raises)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS if wait else 0}")
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if wait or getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        return False
    return True


def _locked_first(conn: Connection) -> None:
    # A transaction begun without the lock would take it at its first write, waiting on the loop.
    dbapi = conn.connection.dbapi_connection
    if dbapi is None or not dbapi.in_transaction:
        raise RuntimeError("the writer's transaction must be begun by SqliteWriter.begin")


def _release(conn: Connection) -> None:
    dbapi = conn.connection.dbapi_connection
    try:
        if dbapi is not None and dbapi.in_transaction:
            dbapi.rollback()
    finally:
        conn.close()


def _end(conn: Connection, end: Callable[[], None]) -> None:
    try:
        end()
    finally:
        conn.close()


def _driver_autocommit(dbapi_connection: object, _record: object) -> None:
    # pysqlite's own implicit BEGIN (DEFERRED, at the first write) is turned off, so that
    # `_lock`'s BEGIN IMMEDIATE is the only one.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
