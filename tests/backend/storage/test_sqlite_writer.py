"""SQLite's writer connection (backend.storage.sqlite_writer): a free write lock is taken on
the loop, a held one waited for on its thread; the commit is made on the thread; and a
transaction nobody will finish never keeps the lock."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from backend.storage.sqlite_writer import SqliteWriter


def _locked_by_another(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def _lock_comes_free(path: Path, within: float) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        for _ in range(int(within / 0.05)):
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                await asyncio.sleep(0.05)
                continue
            other.execute("ROLLBACK")
            return True
        return False
    finally:
        other.close()


def test_a_begin_cancelled_while_it_waits_for_the_lock_never_keeps_the_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    holder = _locked_by_another(path)

    async def main() -> None:
        writer = SqliteWriter(f"sqlite+aiosqlite:///{path}")
        try:
            waiting = asyncio.create_task(writer.begin())
            await asyncio.sleep(0.3)  # BEGIN IMMEDIATE is waiting on the thread (busy_timeout)
            assert not waiting.done()
            # The collector would free an abandoned transaction some time later (it sits in a
            # reference cycle); off, only an explicit rollback can free the lock.
            gc.disable()
            try:
                waiting.cancel()
                holder.execute("COMMIT")  # the thread's BEGIN now gets the lock, for nobody
                # SQLite's busy handler retries at least every 100 ms: the thread has it now.
                await asyncio.sleep(0.5)
                # What the thread opened has been rolled back (or is, at once).
                assert await _lock_comes_free(path, within=2.0)
            finally:
                gc.enable()
        finally:
            writer.close()

    try:
        asyncio.run(main())
    finally:
        holder.close()


def test_the_statements_run_between_a_begin_and_a_commit_that_make_them_durable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)").connection.close()

    async def main() -> None:
        writer = SqliteWriter(f"sqlite+aiosqlite:///{path}")
        try:
            conn, trans = await writer.begin()
            conn.execute(text("INSERT INTO t VALUES (1)"))
            # Until the commit, another connection neither sees the row nor gets the lock.
            reader = sqlite3.connect(path, isolation_level=None, timeout=0)
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
            try:
                reader.execute("BEGIN IMMEDIATE")
                raise AssertionError("the writer's transaction did not hold the write lock")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
            await writer.commit(conn, trans)
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
            reader.close()
        finally:
            writer.close()

    asyncio.run(main())


def test_a_free_write_lock_is_taken_at_once_even_while_the_writer_thread_is_busy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)").connection.close()

    async def main() -> None:
        writer = SqliteWriter(f"sqlite+aiosqlite:///{path}")
        busy = threading.Event()
        writer._thread.submit(busy.wait, 10)  # the thread is taken (a commit's fsync, say)
        try:
            # The previous batch's fan-out runs on the loop meanwhile: a begin that needed the
            # thread would wait for it; a free lock needs nothing but SQLite.
            conn, trans = await asyncio.wait_for(writer.begin(), 2.0)
            conn.execute(text("INSERT INTO t VALUES (1)"))
            other = sqlite3.connect(path, isolation_level=None, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                raise AssertionError("the writer's transaction did not hold the write lock")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
            finally:
                other.close()
            busy.set()
            await writer.commit(conn, trans)
        finally:
            busy.set()
            writer.close()
        assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (1,)

    asyncio.run(main())


def test_a_held_write_lock_is_waited_for_without_blocking_the_loop_then_taken(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    holder = _locked_by_another(path)

    async def main() -> None:
        writer = SqliteWriter(f"sqlite+aiosqlite:///{path}")
        try:
            waiting = asyncio.create_task(writer.begin())
            # Waited for on the loop, the busy timeout (5 s) would hold it, then fail the begin:
            # the loop runs meanwhile, and the begin is still waiting.
            await asyncio.sleep(0.2)
            assert not waiting.done()
            holder.execute("COMMIT")  # the other writer is done: the waiting begin gets the lock
            conn, trans = await asyncio.wait_for(waiting, 5.0)
            conn.execute(text("INSERT INTO t VALUES (2)"))
            await writer.commit(conn, trans)
        finally:
            writer.close()
        assert sqlite3.connect(path).execute("SELECT x FROM t").fetchall() == [(2,)]

    try:
        asyncio.run(main())
    finally:
        holder.close()
