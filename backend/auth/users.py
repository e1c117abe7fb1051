"""Users in the project's database (the `users` table of migration 0002)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.auth.rooms import Role
from backend.protocol import utc_timestamp
from backend.storage.migrate import upgrade
from backend.storage.schema import users


class UsernameTaken(Exception):
    """Registration of a name that exists already."""


class NoUserStore(Exception):
    """DATABASE_URL=none: there is nowhere to keep users."""


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: Role


class UserStore:
    """Reads and writes users; opens its own small engine on DATABASE_URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None

    @property
    def available(self) -> bool:
        return self.url not in ("", "none")

    async def start(self) -> None:
        if not self.available:
            return
        # The message store has usually migrated already; this is a no-op then, and makes the
        # user store usable on its own (the `python -m backend.auth` command).
        await asyncio.to_thread(upgrade, self.url)
        self.engine = create_async_engine(self.url, pool_pre_ping=True)

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()

    def _engine(self) -> AsyncEngine:
        if self.engine is None:
            raise NoUserStore("user accounts need a database (DATABASE_URL is none)")
        return self.engine

    async def create(self, username: str, password_hash: str, role: Role = "user") -> User:
        row = {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": utc_timestamp(),
        }
        try:
            async with self._engine().begin() as conn:
                await conn.execute(users.insert(), row)
        except IntegrityError:
            raise UsernameTaken(username) from None
        return User(username, password_hash, role)

    async def get(self, username: str) -> User | None:
        async with self._engine().connect() as conn:
            found = (await conn.execute(select(users).where(users.c.username == username))).first()
        if found is None:
            return None
        row = found._mapping
        role: Role = "admin" if row["role"] == "admin" else "user"
        return User(row["username"], row["password_hash"], role)

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        query = update(users).where(users.c.username == username)
        async with self._engine().begin() as conn:
            await conn.execute(query.values(password_hash=password_hash))

    async def set_role(self, username: str, role: Role) -> bool:
        """Promote or demote; False when there is no such user."""
        query = update(users).where(users.c.username == username).values(role=role)
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)
