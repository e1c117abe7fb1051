"""Alembic environment: async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.config import get_settings
from backend.storage.schema import metadata

url: str = context.config.attributes.get("url") or get_settings().database_url


# Any constant shared by every instance: the advisory lock that makes migrations run once.
MIGRATION_LOCK = 0x6465_7361  # "desa"


def run(connection: Connection) -> None:
    # Batch mode lets SQLite alter tables (it rebuilds them); PostgreSQL ignores it.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Instances starting together queue here; each then reads the version table the
            # one before it committed, so every migration runs once (SQLite: migrate.upgrade).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
