"""The SQL store on its own, against SQLite and a real PostgreSQL: batching, reads, retention."""

from __future__ import annotations

import asyncio

from backend.broker import Envelope
from backend.protocol import utc_timestamp
from backend.storage import Window, create_store
from backend.storage.sql import SqlStore


def envelope(room: str, n: int, ts: str | None = None) -> Envelope:
    data = {"n": n} if n % 2 else None
    return Envelope(room, n, ts or utc_timestamp(), "ana", f"m{n}", data, "i:1")


def test_appends_commit_in_batches_and_read_back_in_order(database_url: str) -> None:
    async def scenario() -> None:
        store = create_store(database_url, batch_size=50)
        assert isinstance(store, SqlStore)
        await store.start()
        room = f"batch-{database_url[:6]}"
        await asyncio.gather(*(store.append(envelope(room, n)) for n in range(1, 201)))
        newest = await store.read(room, Window(limit=5))
        assert [e.id for e in newest] == [196, 197, 198, 199, 200]
        after = await store.read(room, Window(limit=3, after=10))
        expected = [(11, "m11", {"n": 11}), (12, "m12", None), (13, "m13", {"n": 13})]
        assert [(e.id, e.text, e.data) for e in after] == expected
        before = await store.read(room, Window(limit=2, before=50))
        assert [e.id for e in before] == [48, 49]
        between = await store.read(room, Window(limit=100, after=20, before=25))
        assert [e.id for e in between] == [21, 22, 23, 24]
        assert await store.bounds(room) == (1, 200)
        assert await store.bounds("never-used") is None
        assert await store.read("never-used", Window(limit=10)) == []
        await store.stop()

    asyncio.run(scenario())


def test_retention_keeps_the_newest_per_room_and_drops_the_too_old(database_url: str) -> None:
    async def scenario() -> None:
        store = create_store(database_url)
        await store.start()
        old, new = "2001-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z"
        for n in range(1, 31):
            store.append(envelope("keep-ten", n, new))
        for n in range(1, 4):
            store.append(envelope("ancient", n, old))
        await store.flush()
        assert await store.purge(max_age_seconds=3600, max_per_room=0) == 3
        assert await store.bounds("ancient") is None
        assert await store.purge(max_age_seconds=0, max_per_room=10) >= 20
        assert await store.bounds("keep-ten") == (21, 30)
        await store.stop()

    asyncio.run(scenario())


def test_stop_commits_everything_appended_before_it(database_url: str) -> None:
    async def scenario() -> None:
        room = "stop-flush"
        store = create_store(database_url)
        await store.start()
        pending = [store.append(envelope(room, n)) for n in range(1, 101)]
        await store.stop()
        assert all(done.done() and done.exception() is None for done in pending)
        reopened = create_store(database_url)
        await reopened.start()
        assert await reopened.bounds(room) == (1, 100)
        await reopened.stop()

    asyncio.run(scenario())
