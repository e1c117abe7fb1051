"""The Redis broker on its own, against a real `redis-server`: it carries committed messages
between instances, never numbers them, and asks for a resync after it could not read."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from backend.broker import Envelope, Resync, create_broker
from backend.broker.redis import RedisBroker
from backend.config import Settings
from tests.support.redis import RedisServer


def envelope(room: str, n: int, origin: str) -> Envelope:
    return Envelope(room, n, "2026-11-29T00:00:00.000Z", "ana", "u:ana", f"m{n}", None, origin)


@asynccontextmanager
async def broker(url: str, instance: str) -> AsyncIterator[RedisBroker]:
    made = create_broker(url)
    assert isinstance(made, RedisBroker)
    made.presence().bind(instance, {}, dict, lambda event: None)
    await made.connect()
    try:
        yield made
    finally:
        await made.disconnect()


async def received(source: RedisBroker, n: int) -> list[Envelope | Resync]:
    return [await asyncio.wait_for(source.next_published(), 10) for _ in range(n)]


def test_a_commit_reaches_its_own_instance_at_once_and_the_others_through_redis(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a, broker(redis_server.url, "b") as b:
            await a.subscribe("room")
            await b.subscribe("room")
            sent = [envelope("room", n, "a:1") for n in range(1, 101)]
            for item in sent:
                a.publish(item)
            assert await received(a, 100) == sent
            assert await received(b, 100) == sent
            # Its own commits come back from Redis too, but the reader drops them.
            await asyncio.sleep(0.3)
            assert a.backlog() == 0

    asyncio.run(scenario())


def test_only_subscribed_rooms_are_read(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a, broker(redis_server.url, "b") as b:
            await b.subscribe("mine")
            a.publish(envelope("elsewhere", 1, "a:1"))
            a.publish(envelope("mine", 1, "a:1"))
            assert [e.room for e in await received(b, 1) if isinstance(e, Envelope)] == ["mine"]
            await asyncio.sleep(0.3)
            assert b.backlog() == 0

    asyncio.run(scenario())


def test_after_redis_comes_back_the_reader_asks_for_a_resync(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "b") as b:
            await b.subscribe("room")
            assert b.available
            await asyncio.sleep(0.5)  # the reader is now blocked in XREAD on the old server
            await asyncio.to_thread(redis_server.restart)
            first = await asyncio.wait_for(b.next_published(), 20)
            assert isinstance(first, Resync)
            assert b.available

    asyncio.run(scenario())


def test_redis_url_selects_the_redis_broker_when_broker_url_is_unset() -> None:
    shared = "postgresql+asyncpg://h/db"
    assert Settings(redis_url="redis://h:1/0", database_url=shared).broker_url == "redis://h:1/0"
    assert Settings(redis_url="redis://h:1/0", broker_url="memory://").broker_url == "memory://"
    assert Settings().broker_url == "memory://"


def test_a_cluster_without_a_shared_database_refuses_to_start() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from backend.config import Settings; Settings()"],
        capture_output=True,
        text=True,
        env={"BROKER_URL": "redis://127.0.0.1:1/0", "DATABASE_URL": "none", "PATH": "/usr/bin"},
    )
    assert result.returncode != 0
    assert "needs a shared DATABASE_URL" in result.stderr


def test_the_memory_broker_never_imports_redis() -> None:
    code = (
        "import sys; from backend.app import create_app; create_app(); "
        "assert not any(m == 'redis' or m.startswith('redis.') for m in sys.modules), 'imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"BROKER_URL": "memory://", "DATABASE_URL": "none", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
