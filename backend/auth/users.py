"""Users in the project's database (the `users` table of migrations 0002 and 0005)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.auth.names import confusable_key, is_guest_like
from backend.auth.rooms import Role
from backend.protocol import utc_timestamp
from backend.storage.engine import acquire, release
from backend.storage.schema import push_follows, push_subscriptions, users

# The role of a row that keeps a service token's name (claim `svc`): a name, never an account.
SERVICE = "service"
# Not a PHC string: argon2 refuses to verify any password against it, so nobody logs in as one.
NO_PASSWORD = "!"
# The role of a deleted account's row, kept so that its name is never given to anyone else:
# private rooms list names, and old messages show it (docs/security.md, "Accounts").
DELETED = "deleted"


class UsernameTaken(Exception):
    """Registration of a name that exists already, or that looks like one that does."""


class NoUserStore(Exception):
    """DATABASE_URL=none: there is nowhere to keep users."""


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: Role
    # Random, never reused (the token's `uid`); token_version is the token's `ver`.
    id: str = ""
    token_version: int = 0
    disabled: bool = False
    # A service token's name kept here (keep_for_service), not a user: no password, no login.
    service: bool = False


def _user(row: Any) -> User:
    role: Role = "admin" if row["role"] == "admin" else "user"
    return User(
        row["username"],
        row["password_hash"],
        role,
        row["id"],
        int(row["token_version"]),
        bool(row["disabled"]),
        row["role"] == SERVICE,
    )


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
        # The message store's engine when it runs in this process (backend/storage/engine.py);
        # on its own (the `python -m backend.auth` command) this migrates and creates it.
        self.engine = await acquire(self.url)

    async def stop(self) -> None:
        if self.engine is not None:
            self.engine = None
            await release(self.url)

    def _engine(self) -> AsyncEngine:
        if self.engine is None:
            raise NoUserStore("user accounts need a database (DATABASE_URL is none)")
        return self.engine

    async def create(self, username: str, password_hash: str, role: Role = "user") -> User:
        """A new user; UsernameTaken when the name, or one that looks like it, exists, or when
        it has the form of guests' names (kept for them: names.is_guest_like)."""
        if is_guest_like(username):
            raise UsernameTaken(username)
        key = confusable_key(username)
        user = User(username, password_hash, role, secrets.token_hex(8))
        row = {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": utc_timestamp(),
            "id": user.id,
            "token_version": 0,
            "disabled": False,
            "name_key": key,
        }
        try:
            async with self._engine().begin() as conn:
                lookalike = select(users.c.username).where(users.c.name_key == key).limit(1)
                if (await conn.execute(lookalike)).first() is not None:
                    raise UsernameTaken(username)
                await conn.execute(users.insert(), row)
        except IntegrityError:
            raise UsernameTaken(username) from None
        return user

    async def keep_for_service(self, name: str, keys: Iterable[str]) -> int | None:
        """Keep `name` (a username) for the service token that carries it, as a row no one can
        log in to, so that nobody registers it or a look-alike later (which would pass for the
        service). The row's token version when the name is that service's (its tokens carry
        it: an admin's revoke refuses the older ones); None when a user's name is it or looks
        like it (`keys`: names.confusable_keys)."""
        if is_guest_like(name):
            return None
        wanted = sorted(keys)
        row = {
            "username": name,
            "password_hash": NO_PASSWORD,
            "role": SERVICE,
            "created_at": utc_timestamp(),
            "id": secrets.token_hex(8),
            "token_version": 0,
            "disabled": False,
            "name_key": confusable_key(name),
        }
        query = select(users.c.username, users.c.role, users.c.token_version).where(
            users.c.name_key.in_(wanted)
        )
        for _ in range(2):  # a lost race with another instance's insert: read what it kept
            try:
                async with self._engine().begin() as conn:
                    found = (await conn.execute(query)).all()
                    if found:
                        ours = all(r.username == name and r.role == SERVICE for r in found)
                        return int(found[0].token_version) if ours else None
                    await conn.execute(users.insert(), row)
                    return 0
            except IntegrityError:
                continue
        return None

    async def get(self, username: str) -> User | None:
        async with self._engine().connect() as conn:
            found = (await conn.execute(select(users).where(users.c.username == username))).first()
        return None if found is None else _user(found._mapping)

    async def any_with_keys(self, keys: Iterable[str]) -> bool:
        """Whether a registered name has one of these confusable keys (names.confusable_keys)."""
        query = select(users.c.username).where(users.c.name_key.in_(sorted(keys))).limit(1)
        async with self._engine().connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def set_password_hash(
        self, username: str, password_hash: str, revoke: bool = False
    ) -> None:
        """Store a new hash; `revoke` also bumps the token version (a password change)."""
        values: dict[str, Any] = {"password_hash": password_hash}
        if revoke:
            values["token_version"] = users.c.token_version + 1
        query = update(users).where(users.c.username == username).values(**values)
        async with self._engine().begin() as conn:
            await conn.execute(query)

    async def revoke_tokens(self, username: str) -> bool:
        """Bump the token version: every token issued so far is refused from now on."""
        query = (
            update(users)
            .where(users.c.username == username, users.c.role != DELETED)
            .values(token_version=users.c.token_version + 1)
        )
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (or enable) a user; False when there is no such user."""
        query = (
            update(users)
            .where(users.c.username == username, users.c.role != DELETED)
            .values(disabled=disabled)
        )
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def delete(self, username: str) -> bool:
        """Delete a user's account, push subscriptions and follows; False when not there. The
        name stays taken (a row nobody can log in to, its tokens revoked): a new account of
        that name would inherit what is granted by name (private rooms) and pass for the old
        one in its messages."""
        tombstone = {
            "role": DELETED,
            "password_hash": NO_PASSWORD,
            "disabled": True,
            "token_version": users.c.token_version + 1,
        }
        kept = update(users).where(users.c.username == username, users.c.role != DELETED)
        async with self._engine().begin() as conn:
            if not (await conn.execute(kept.values(**tombstone))).rowcount:
                return False
            await conn.execute(
                delete(push_subscriptions).where(push_subscriptions.c.username == username)
            )
            await conn.execute(delete(push_follows).where(push_follows.c.username == username))
            return True

    async def set_role(self, username: str, role: Role) -> bool:
        """Promote or demote; False when there is no such user."""
        # Tokens carry the role: revoking them makes a demotion take effect now, not at `exp`.
        query = (
            update(users)
            .where(users.c.username == username, users.c.role.in_(("user", "admin")))
            .values(role=role, token_version=users.c.token_version + 1)
        )
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)
