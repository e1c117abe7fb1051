"""Follows are a bounded resource: a per-user cap kept by the database (one user once followed
20,000 rooms), and a notifier cache that holds only real follows and keeps up with other
instances even while local follows change all the time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from backend.auth.service import AuthService
from backend.config import Settings
from backend.metrics import Metrics
from backend.push import PushService, notifier
from backend.push.keys import private_key_b64
from tests.backend.push.test_delivery import KEY, push_env
from tests.support.auth import bearer, sign
from tests.support.server import ServerFactory

ANA = bearer(sign("ana"))
CAP = 3


def rooms_of(base: str, headers: dict[str, str]) -> list[str]:
    rooms: list[str] = httpx.get(base, headers=headers).json()["rooms"]
    return rooms


def test_following_past_the_cap_is_refused_until_a_room_is_unfollowed(
    make_server: ServerFactory,
) -> None:
    server = make_server(push_env(PUSH_MAX_FOLLOWS_PER_USER=str(CAP)))
    base = server.http + "/push/follows"
    for room in ("r1", "r2", "r3"):
        assert httpx.put(f"{base}/{room}", headers=ANA).status_code == 204
    refused = httpx.put(base + "/r4", headers=ANA)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "too many followed rooms (at most 3); unfollow one first"
    assert httpx.put(base + "/r2", headers=ANA).status_code == 204  # again: not counted twice
    assert rooms_of(base, ANA) == ["r1", "r2", "r3"]
    assert httpx.put(base + "/r4", headers=bearer(sign("bob"))).status_code == 204  # per user
    assert httpx.delete(base + "/r1", headers=ANA).status_code == 204
    assert httpx.put(base + "/r4", headers=ANA).status_code == 204  # the freed slot
    assert rooms_of(base, ANA) == ["r2", "r3", "r4"]


def test_concurrent_follows_do_not_overshoot_the_cap(make_server: ServerFactory) -> None:
    server = make_server(push_env(PUSH_MAX_FOLLOWS_PER_USER=str(CAP)))
    base = server.http + "/push/follows"

    async def spray() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            puts = (client.put(f"{base}/c{i}", headers=ANA) for i in range(30))
            return sorted(answer.status_code for answer in await asyncio.gather(*puts))

    # SQLite (the test servers' database) serializes the count with the insert: exact.
    assert asyncio.run(spray()) == [204] * CAP + [409] * (30 - CAP)
    assert len(rooms_of(base, ANA)) == CAP


@asynccontextmanager
async def push_service(tmp_path: Path, start: bool) -> AsyncIterator[PushService]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/push.db",
        vapid_private_key=private_key_b64(KEY),
        vapid_subject="mailto:ops@example.com",
    )
    auth = AuthService(settings)
    push = PushService(settings, auth, Metrics())
    try:
        if start:
            await push.start()
        yield push
    finally:
        if start:
            await push.stop()
        else:
            push.sender.close()
        auth.hashing.close()


def test_unfollowing_rooms_nobody_follows_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with push_service(tmp_path, start=False) as push:
            cache = push.notifier
            for i in range(1000):
                cache.followed("ana", f"never-{i}", following=False)
            assert cache.followers == {}
            cache.followed("ana", "news", following=True)
            cache.followed("bob", "news", following=True)
            cache.followed("ana", "news", following=False)
            assert cache.followers == {"news": {"bob"}}
            cache.followed("bob", "news", following=False)
            assert cache.followers == {}  # the emptied set is gone too

    asyncio.run(scenario())


def test_steady_local_changes_do_not_starve_the_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier, "FOLLOWS_REFRESH_SECONDS", 0.01)

    async def scenario() -> None:
        async with push_service(tmp_path, start=True) as push:
            cache, read = push.notifier, push.store.followers
            local: list[str] = []

            async def read_then_change_locally() -> dict[str, set[str]]:
                fresh = await read()
                # A follow on this instance after every read: the read misses it. (Listed
                # once done: the check below may run while one is being written.)
                room = f"local-{len(local)}"
                await push.store.follow("cid", room, 100)
                cache.followed("cid", room, following=True)
                local.append(room)
                return fresh

            monkeypatch.setattr(push.store, "followers", read_then_change_locally)
            await push.store.follow("bob", "news", 100)  # as another instance would: no cache
            for _ in range(300):
                if "news" in cache.followers and len(local) >= 3:
                    break
                await asyncio.sleep(0.01)
            assert cache.followers.get("news") == {"bob"}
            cids = {room for room, names in cache.followers.items() if "cid" in names}
            assert cids == set(local)  # and none of the local changes was lost

    asyncio.run(scenario())
