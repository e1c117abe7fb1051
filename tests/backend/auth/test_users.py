"""The user store on SQLite and PostgreSQL: unique names, Argon2id hashes, roles, ids,
revocation, disabling and deletion."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest

from backend.auth.names import confusable_keys
from backend.auth.passwords import HashBudget
from backend.auth.users import NO_PASSWORD, UsernameTaken, UserStore
from backend.storage.migrate import upgrade


def test_users_are_created_once_found_and_promoted(database_url: str) -> None:
    name = "u" + uuid.uuid4().hex[:12]  # the PostgreSQL database is shared by the session

    async def scenario() -> None:
        store = UserStore(database_url)
        budget = HashBudget(concurrency=1, queue=4)
        hash_password, verify_password = budget.hash_password, budget.verify_password
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
            budget.close()
            await store.stop()

    asyncio.run(scenario())


def test_accounts_have_stable_ids_versions_and_can_be_disabled_and_deleted_for_good(
    database_url: str,
) -> None:
    name = "v" + uuid.uuid4().hex[:12]

    async def scenario() -> None:
        store = UserStore(database_url)
        await store.start()
        try:
            created = await store.create(name, "$argon2id$placeholder")
            found = await store.get(name)
            assert found is not None and found.id == created.id and len(found.id) == 16
            assert (found.token_version, found.disabled) == (0, False)
            assert await store.revoke_tokens(name)
            await store.set_password_hash(name, "$argon2id$other", revoke=True)
            assert await store.set_role(name, "admin")  # a role change revokes too
            changed = await store.get(name)
            assert changed is not None and changed.token_version == 3
            assert await store.set_disabled(name, True)
            disabled = await store.get(name)
            assert disabled is not None and disabled.disabled
            assert await store.any_with_keys(confusable_keys(name.upper()))
            assert await store.delete(name)
            # A tombstone: nobody logs in to it, brings it back, or registers its name again.
            gone = await store.get(name)
            assert gone is not None and gone.disabled and gone.password_hash == NO_PASSWORD
            assert gone.token_version == 4 and not await store.delete(name)
            assert not await store.set_disabled(name, False)
            assert not await store.set_role(name, "admin")
            with pytest.raises(UsernameTaken):
                await store.create(name, "$argon2id$placeholder")
        finally:
            await store.stop()

    asyncio.run(scenario())


def test_a_name_that_looks_like_a_registered_one_cannot_be_registered(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]

    async def scenario() -> None:
        store = UserStore(database_url)
        await store.start()
        try:
            await store.create(f"maria-{tag}", "$argon2id$placeholder")
            with pytest.raises(UsernameTaken):
                await store.create(f"rnaria-{tag}", "$argon2id$placeholder")  # "rn" reads as "m"
        finally:
            await store.stop()

    asyncio.run(scenario())


def test_look_alike_names_registered_at_the_same_moment_make_one_account(
    database_url: str,
) -> None:
    # Registration read the key, then inserted: racing look-alikes all passed the read.
    async def scenario() -> None:
        store = UserStore(database_url)
        await store.start()
        try:
            for _ in range(4):
                tag = uuid.uuid4().hex[:6]
                names = [f"q{tag}{a}{b}{c}" for a in "o0" for b in "o0" for c in "o0"]
                created = await asyncio.gather(
                    *(store.create(name, "$argon2id$placeholder") for name in names),
                    return_exceptions=True,
                )
                stored = [name for name, out in zip(names, created, strict=True) if out is not None]
                kept = [out for out in created if not isinstance(out, UsernameTaken)]
                assert len(kept) == 1, stored
        finally:
            await store.stop()

    asyncio.run(scenario())


def test_names_of_the_form_guests_are_given_are_kept_for_guests(database_url: str) -> None:
    # A guest's default name is `guest-<hex>` from its session: an account of that form (or a
    # look-alike) would let a guest appear under a registered name without typing it.
    async def scenario() -> None:
        store = UserStore(database_url)
        await store.start()
        try:
            tag = uuid.uuid4().hex[:6]
            for name in (f"guest-{tag}", f"GUEST-{tag}", "guest-"):
                with pytest.raises(UsernameTaken):
                    await store.create(name.lower(), "$argon2id$placeholder")
            assert (
                await store.keep_for_service(f"guest-{tag}", confusable_keys(f"guest-{tag}"))
                is None
            )
            await store.create(f"guestbook{tag}", "$argon2id$placeholder")  # only the form
        finally:
            await store.stop()

    asyncio.run(scenario())


def test_twins_left_by_an_older_race_keep_their_accounts_and_the_first_keeps_the_name(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    upgrade(url, "0006")
    with sqlite3.connect(tmp_path / "old.db") as db:
        for n, name in enumerate(["cooo", "coo0", "c0o0"]):
            db.execute(
                "INSERT INTO users (username, password_hash, role, created_at, id, token_version,"
                " disabled, name_key) VALUES (?, ?, 'user', ?, ?, 0, 0, 'cooo')",
                (name, "$argon2id$placeholder", f"2026-01-0{n + 1}T00:00:00.000Z", f"{n:016x}"),
            )
    upgrade(url)

    async def scenario() -> None:
        store = UserStore(url)
        await store.start()
        try:
            for name in ("cooo", "coo0", "c0o0"):
                assert await store.get(name) is not None, name
            with pytest.raises(UsernameTaken):
                await store.create("c00o", "$argon2id$placeholder")
        finally:
            await store.stop()

    asyncio.run(scenario())
    with sqlite3.connect(tmp_path / "old.db") as db:
        keys = dict(db.execute("SELECT username, name_key FROM users").fetchall())
    assert keys["cooo"] == "cooo" and len(set(keys.values())) == 3, keys


def test_the_accounts_migration_gives_existing_users_an_id_and_a_name_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    upgrade(url, "0004")  # a database from before accounts had ids
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            ("ana", "$argon2id$placeholder", "user", "2026-01-01T00:00:00.000Z"),
        )
    upgrade(url)

    async def scenario() -> None:
        store = UserStore(url)
        await store.start()
        try:
            ana = await store.get("ana")
            assert ana is not None and len(ana.id) == 16
            assert (ana.token_version, ana.disabled) == (0, False)
            assert await store.any_with_keys(confusable_keys("\u0430NA"))
        finally:
            await store.stop()

    asyncio.run(scenario())
