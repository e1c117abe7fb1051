"""The SQL store on its own, against SQLite and a real PostgreSQL: numbering, batching, reads,
refs, isolation of bad rows, retention."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from backend.identity import Sender
from backend.messages import Draft, Envelope
from backend.storage import StorageError, Window, create_store, retention
from backend.storage.sql import SqlStore
from tests.support.postgres import PostgresServer

ANA = Sender("u:ana", "ana")


def draft(room: str, n: int, ref: str | None = None, **changes: Any) -> Draft:
    fields: dict[str, Any] = {
        "room": room,
        "sender": ANA,
        "text": f"m{n}",
        "data": {"n": n} if n % 2 else None,
        "origin": "i:1",
        "ref": ref,
        **changes,
    }
    return Draft(**fields)


def test_appends_are_numbered_densely_per_room_and_read_back_in_order(database_url: str) -> None:
    async def scenario() -> None:
        store = create_store(database_url, batch_size=50)
        assert isinstance(store, SqlStore)
        committed: list[Envelope] = []
        store.on_commit = committed.extend
        await store.start()
        room, other = f"batch-{database_url[:6]}", f"other-{database_url[:6]}"
        stored = await asyncio.gather(
            *(store.append(draft(room if n % 3 else other, n)) for n in range(1, 301))
        )
        assert [e.id for e in stored if e.room == room] == list(range(1, 201))
        assert [e.id for e in stored if e.room == other] == list(range(1, 101))
        assert sorted((e.room, e.id) for e in committed) == sorted((e.room, e.id) for e in stored)
        newest = await store.read(room, Window(limit=3))
        assert [(e.id, e.sender_id) for e in newest] == [
            (198, "u:ana"),
            (199, "u:ana"),
            (200, "u:ana"),
        ]
        after = await store.read(room, Window(limit=2, after=10))
        assert [(e.id, e.text, e.data) for e in after] == [
            (11, "m16", None),
            (12, "m17", {"n": 17}),
        ]
        between = await store.read(room, Window(limit=100, after=20, before=25))
        assert [e.id for e in between] == [21, 22, 23, 24]
        position = await store.position(room)
        assert (position.first, position.last) == (1, 200) and len(position.epoch) == 16
        assert (await store.position("never-used")).last == 0
        assert await store.read("never-used", Window(limit=10)) == []
        await store.stop()

    asyncio.run(scenario())


def test_a_ref_resent_after_a_restart_resolves_to_the_stored_message(database_url: str) -> None:
    async def scenario() -> None:
        room = f"refs-{database_url[:6]}"
        store = create_store(database_url)
        committed: list[Envelope] = []
        store.on_commit = committed.extend
        await store.start()
        first = await store.append(draft(room, 1, ref="r1"))
        await store.stop()

        again = create_store(database_url)
        again.on_commit = committed.extend
        await again.start()
        bob = Sender("g:00000000000000bb", "ana")  # same name, another identity, same ref
        same, theirs, twice = await asyncio.gather(
            again.append(draft(room, 1, ref="r1")),
            again.append(draft(room, 2, ref="r1", sender=bob)),
            again.append(draft(room, 3, ref="r1", sender=bob)),
        )
        assert same.id == first.id and same.text == "m1"
        assert theirs.id == twice.id == first.id + 1
        assert [e.id for e in committed] == [first.id, first.id + 1]
        assert [e.id for e in await again.read(room, Window(limit=10))] == [1, 2]
        await again.stop()

    asyncio.run(scenario())


def test_one_row_the_database_refuses_fails_alone(postgres: PostgresServer) -> None:
    async def scenario() -> None:
        store = create_store(postgres.url)
        await store.start()
        room = "isolation"
        # PostgreSQL's text cannot hold NUL: the protocol refuses it, the store must still cope.
        outcomes = await asyncio.gather(
            *(
                store.append(draft(room, n, text="bad\x00" if n == 5 else f"m{n}"))
                for n in range(10)
            ),
            return_exceptions=True,
        )
        failed = [n for n, o in enumerate(outcomes) if isinstance(o, BaseException)]
        assert failed == [5]
        error = outcomes[5]
        assert isinstance(error, StorageError) and error.code == "invalid_data"
        stored = await store.read(room, Window(limit=20))
        assert [e.id for e in stored] == list(range(1, 10))
        await store.stop()

    asyncio.run(scenario())


def test_the_same_ref_stored_by_two_writers_at_once_is_one_message_acked_to_both(
    postgres: PostgresServer,
) -> None:
    # Two instances handed the same resend at the same moment: both look the ref up, find
    # nothing, and one insert meets the other's in the unique index.
    async def scenario() -> None:
        one, two = create_store(postgres.url), create_store(postgres.url)
        await one.start()
        await two.start()
        for n in range(60):  # one message per transaction: the race each time
            same = draft("ref-race", n, ref=f"r{n}")
            first, second = await asyncio.gather(
                one.append(same), two.append(same), return_exceptions=True
            )
            assert isinstance(first, Envelope) and isinstance(second, Envelope), (first, second)
            assert first.id == second.id
        stored = await one.read("ref-race", Window(limit=100))
        assert [e.ref for e in stored] == [f"r{n}" for n in range(60)]
        await one.stop()
        await two.stop()

    asyncio.run(scenario())


def test_ids_are_never_given_again_after_retention_deletes_a_whole_room(database_url: str) -> None:
    async def scenario() -> None:
        store = create_store(database_url)
        await store.start()
        await asyncio.gather(*(store.append(draft("ancient", n)) for n in range(3)))
        await asyncio.sleep(0.01)  # timestamps have millisecond precision
        assert await store.purge(max_age_seconds=1e-9, max_per_room=0) >= 3
        position = await store.position("ancient")
        assert (position.first, position.last) == (4, 3)
        assert (await store.append(draft("ancient", 9))).id == 4
        await store.stop()

    asyncio.run(scenario())


def test_retention_keeps_the_newest_per_room(database_url: str) -> None:
    async def scenario() -> None:
        store = create_store(database_url)
        await store.start()
        await asyncio.gather(*(store.append(draft("keep-ten", n)) for n in range(30)))
        assert await store.purge(max_age_seconds=0, max_per_room=10) >= 20
        position = await store.position("keep-ten")
        assert (position.first, position.last) == (21, 30)
        await store.stop()

    asyncio.run(scenario())


def test_retention_deletes_in_chunks_until_nothing_it_no_longer_keeps_is_left(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PURGE_CHUNK", 7)  # several transactions per rule

    async def scenario() -> None:
        store = create_store(database_url)
        await store.start()
        await asyncio.gather(*(store.append(draft("chunks", n)) for n in range(50)))
        await asyncio.gather(*(store.append(draft(f"small-{n}", n)) for n in range(30)))
        assert await store.purge(max_age_seconds=0, max_per_room=12) >= 38
        assert (await store.position("chunks")).first == 39
        assert (await store.position("small-3")).first == 1  # one message: under the count
        await asyncio.sleep(0.01)  # timestamps have millisecond precision
        # (The database may hold other tests' rooms: all as old.)
        assert await store.purge(max_age_seconds=1e-9, max_per_room=0) >= 42
        assert await store.read("chunks", Window(limit=100)) == []
        assert await store.read("small-3", Window(limit=100)) == []
        await store.stop()

    asyncio.run(scenario())


def test_stop_commits_everything_appended_before_it(database_url: str) -> None:
    async def scenario() -> None:
        room = "stop-flush"
        store = create_store(database_url)
        await store.start()
        pending = [store.append(draft(room, n)) for n in range(100)]
        await store.stop()
        assert all(done.done() and done.exception() is None for done in pending)
        reopened = create_store(database_url)
        await reopened.start()
        position = await reopened.position(room)
        assert (position.first, position.last) == (1, 100)
        await reopened.stop()

    asyncio.run(scenario())


def test_a_postgresql_restart_fails_publishes_as_outages_never_as_refused_data() -> None:
    # "The database system is shutting down" / "... is starting up" come as plain DBAPIErrors:
    # taken for the rows' fault, each message of the batch was answered invalid_data (not to be
    # resent), though nothing was wrong with it.
    database = PostgresServer().init().start()
    outcomes: list[str] = []

    async def scenario() -> None:
        store = create_store(database.url)
        await store.start()
        loop = asyncio.get_running_loop()

        async def publish(seconds: float) -> None:
            n, end = 0, loop.time() + seconds
            while loop.time() < end:
                try:
                    await store.append(draft("restart", n, ref=f"r{n}"))
                    outcomes.append("ack")
                except StorageError as exc:
                    outcomes.append(exc.code)
                n += 1
                await asyncio.sleep(0.002)

        publishing = [asyncio.create_task(publish(8.0)) for _ in range(6)]
        await asyncio.sleep(1.0)
        for _ in range(4):  # down and up, four times
            await asyncio.to_thread(database.stop)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(database.start)
            await asyncio.sleep(0.5)
        await asyncio.gather(*publishing)
        await store.stop()

    try:
        asyncio.run(scenario())
    finally:
        database.destroy()
    assert "ack" in outcomes
    assert set(outcomes) <= {"ack", "storage_failed", "outcome_unknown"}, set(outcomes)


def test_a_retention_round_cut_short_leaves_each_room_whole_from_its_lowest_id(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Edits move rows in PostgreSQL's heap and ANALYZE makes it scan the heap: without an order,
    # a chunk was any 2,000 rows, and a round cut after one left holes (recovery took the
    # lowest id left as the log's start and replayed across them as exact).
    monkeypatch.setattr(retention, "PURGE_CHUNK", 50)

    async def cut() -> None:
        raise asyncio.CancelledError  # the round stops after its first chunk (a restart)

    async def scenario() -> None:
        store = create_store(postgres.url, batch_size=100)
        assert isinstance(store, SqlStore)
        await store.start()
        room = f"cut-{uuid.uuid4().hex[:8]}"
        await asyncio.gather(*(store.append(draft(room, n)) for n in range(600)))
        for target in range(1, 300, 3):  # edits rewrite old rows elsewhere in the heap
            await store.append(draft(room, 0, kind="edit", target=target, text=f"e{target}"))
        assert store.engine is not None
        async with store.engine.begin() as conn:
            await conn.execute(text("ANALYZE messages"))
        monkeypatch.setattr(retention, "_between_chunks", cut)
        with pytest.raises(asyncio.CancelledError):
            await store.purge(max_age_seconds=0, max_per_room=100)
        left = [e.id for e in await store.read(room, Window(limit=1000, after=0))]
        assert left == list(range(left[0], left[0] + len(left))) and left[0] == 51
        await store.stop()

    asyncio.run(scenario())
