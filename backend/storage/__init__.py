"""Message storage, chosen by DATABASE_URL: SQLite (default), PostgreSQL, or none."""

from __future__ import annotations

from backend.storage.base import Position, StorageError, Store, Window


def create_store(url: str, batch_size: int = 500) -> Store:
    if url in ("", "none"):
        from backend.storage.null import NullStore

        return NullStore()
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        from backend.storage.sql import SqlStore

        return SqlStore(url, batch_size)
    raise ValueError(
        "unsupported DATABASE_URL; expected sqlite+aiosqlite://, postgresql+asyncpg:// or none"
    )


__all__ = ["Position", "StorageError", "Store", "Window", "create_store"]
