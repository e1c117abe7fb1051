"""The Redis broker on its own, against a real `redis-server`: ids, order, history, floors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from backend.broker import BrokerUnavailable, Draft, Envelope, create_broker
from backend.broker.redis import RedisBroker
from backend.config import Settings
from tests.support.redis import RedisServer


def draft(room: str, text: str, origin: str = "x:1", floor: int = 0) -> Draft:
    return Draft(room, "someone", text, None, origin=origin, floor=floor)


@asynccontextmanager
async def broker(url: str, instance: str) -> AsyncIterator[RedisBroker]:
    made = create_broker(url)
    assert isinstance(made, RedisBroker)
    presence = made.presence()
    presence.bind(instance, {}, dict, lambda event: None)
    await made.connect()
    try:
        yield made
    finally:
        await made.disconnect()


async def received(source: RedisBroker, n: int) -> list[Envelope]:
    return [await asyncio.wait_for(source.next_published(), 10) for _ in range(n)]


def test_two_brokers_publishing_at_once_both_read_one_order_of_increasing_ids(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a, broker(redis_server.url, "b") as b:
            await a.subscribe("room")
            await b.subscribe("room")
            sent = await asyncio.gather(
                *(a.publish(draft("room", f"a{i}")) for i in range(100)),
                *(b.publish(draft("room", f"b{i}")) for i in range(100)),
            )
            seen_a, seen_b = await received(a, 200), await received(b, 200)
            assert seen_a == seen_b
            assert [e.id for e in seen_a] == list(range(1, 201))
            assert sorted(e.id for e in sent) == list(range(1, 201))
            assert seen_a[0].ts.endswith("Z") and seen_a[0].ts <= seen_a[-1].ts

    asyncio.run(scenario())


def test_only_subscribed_rooms_are_read_and_ids_count_per_room(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a:
            await a.subscribe("mine")
            await a.publish(draft("elsewhere", "not for me"))
            first = await a.publish(draft("mine", "for me"))
            assert first.id == 1
            assert [e.text for e in await received(a, 1)] == ["for me"]
            await a.unsubscribe("mine")
            await a.publish(draft("mine", "after leaving"))
            await a.subscribe("mine")
            latest = await a.publish(draft("mine", "back"))
            assert ([e.text for e in await received(a, 1)], latest.id) == (["back"], 3)

    asyncio.run(scenario())


def test_recent_reads_a_rooms_messages_after_an_id_oldest_first(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a, broker(redis_server.url, "b") as b:
            for i in range(10):
                await (a if i % 2 else b).publish(draft("log", f"m{i}"))
            recent = await b.recent("log", after=6, limit=100)
            assert [(e.id, e.text) for e in recent] == [(7, "m6"), (8, "m7"), (9, "m8"), (10, "m9")]
            assert [e.id for e in await a.recent("log", after=0, limit=3)] == [8, 9, 10]
            assert await a.recent("empty", after=0, limit=10) == []

    asyncio.run(scenario())


def test_ids_continue_above_the_floor_even_when_redis_forgot_its_counter(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a:
            assert (await a.publish(draft("seeded", "x", floor=41))).id == 42
            await a.publish(draft("seeded", "y"))
            async with Redis.from_url(redis_server.url) as raw:
                await raw.flushall()
            assert (await a.publish(draft("seeded", "z"))).id == 44

    asyncio.run(scenario())


def test_publishing_without_redis_raises_unavailable_and_the_broker_says_so(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> None:
        async with broker(redis_server.url, "a") as a:
            assert a.available
            redis_server.stop()
            try:
                await a.publish(draft("room", "lost"))
            except BrokerUnavailable:
                pass
            else:
                raise AssertionError("publish without Redis must raise BrokerUnavailable")
            assert not a.available

    asyncio.run(scenario())


def test_redis_url_selects_the_redis_broker_when_broker_url_is_unset() -> None:
    assert Settings(redis_url="redis://h:1/0").broker_url == "redis://h:1/0"
    assert Settings(redis_url="redis://h:1/0", broker_url="memory://").broker_url == "memory://"
    assert Settings().broker_url == "memory://"


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
