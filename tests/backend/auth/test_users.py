"""The user store on SQLite and PostgreSQL: unique names, Argon2id hashes, roles."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backend.auth.passwords import hash_password, verify_password
from backend.auth.users import UsernameTaken, UserStore


def test_users_are_created_once_found_and_promoted(database_url: str) -> None:
    name = "u" + uuid.uuid4().hex[:12]  # the PostgreSQL database is shared by the session

    async def scenario() -> None:
        store = UserStore(database_url)
        await store.start()
        try:
            stored = await hash_password("correct horse")
            assert stored.startswith("$argon2id$") and "correct horse" not in stored
            await store.create(name, stored)
            with pytest.raises(UsernameTaken):
                await store.create(name, stored)
            user = await store.get(name)
            assert user is not None and user.role == "user"
            assert await verify_password(user.password_hash, "correct horse")
            assert not await verify_password(user.password_hash, "wrong horse")
            assert not await verify_password(None, "correct horse")  # no such user
            assert await store.set_role(name, "admin")
            promoted = await store.get(name)
            assert promoted is not None and promoted.role == "admin"
            assert not await store.set_role("nobody-" + name, "admin")
            assert await store.get("nobody-" + name) is None
        finally:
            await store.stop()

    asyncio.run(scenario())
