"""Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from backend.storage.migrate import alembic_config, upgrade
from backend.storage.schema import metadata


def test_migrations_create_the_declared_schema_and_are_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a restart applies nothing twice

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        assert context.get_current_revision() == head
        assert "messages" in inspect(connection).get_table_names()
        return list(compare_metadata(context, metadata))

    async def check() -> list[object]:
        engine = create_async_engine(database_url)
        async with engine.connect() as connection:
            found = await connection.run_sync(differences)
        await engine.dispose()
        return found

    assert asyncio.run(check()) == []
