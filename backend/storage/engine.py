"""One engine per database URL per process, and one migration step per URL per process.

The message store, the user store and the push store all live in the database DATABASE_URL
names. Each used to create its own engine (its own pool, its own SQLite settings) and run
Alembic; now they share one engine, created by the first that starts, disposed when the last
stops, and the migrations run once (under a lock shared with other instances: migrate.py).

One exception, on SQLite only: the message writer's own connection
(backend.storage.sqlite_writer), made with the same settings by the store that already holds the
shared engine, after the migrations. It is not a second store: it only writes the log, and
exists because of where a batch may wait (its docstring says why).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.storage.migrate import upgrade

_engines: dict[str, tuple[AsyncEngine, int]] = {}
_migrated: set[str] = set()
# How long a writer waits for another's write lock before its batch fails (and is retried).
BUSY_TIMEOUT_MS = 5000


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
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The settings every SQLite connection of the process gets (both engines)."""
    # WAL lets history reads run beside the writer; FULL makes each commit (one per batch)
    # survive power loss, which is what an ack promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
