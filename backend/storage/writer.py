"""The batching writer: numbers, stores and commits messages, one transaction per batch.

Ids are given in the transaction that inserts the messages (`room_log.last_id` advanced by the
batch's count), so a rolled-back batch gives back its ids and a committed one can never be
numbered again; the row lock on `room_log` orders instances that share a database. A batch that
fails on its data is retried message by message, so one author's bad message fails only itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import ReturningInsert

from backend.messages import Draft, Envelope
from backend.protocol import utc_timestamp
from backend.storage.amendments import apply_amendments
from backend.storage.base import StorageError
from backend.storage.outages import is_outage
from backend.storage.rows import envelope_of, row_of
from backend.storage.schema import messages, room_log
from backend.storage.sqlite_writer import SqliteWriter

log = logging.getLogger("desafio.storage")

# Transient failures (a locked SQLite file, a PostgreSQL failover) are retried this many times,
# after these pauses, before the batch's authors get an error instead of an ack.
RETRY_PAUSES = (0.05, 0.25, 1.0)

Item = tuple[Draft, "asyncio.Future[Envelope]"]


class OutcomeUnknown(Exception):
    """The commit was sent but its answer lost: the batch may or may not be stored."""


class Writer:
    """Commits `Item`s; `commit` settles each item's future and returns the fresh envelopes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._advance_ids = _advance_statement(engine.dialect.name)
        sqlite = engine.dialect.name == "sqlite"
        self._local = SqliteWriter(engine.url.render_as_string(False)) if sqlite else None

    def close(self) -> None:
        if self._local is not None:
            self._local.close()

    async def commit(self, items: Sequence[Item], resolving: bool = False) -> list[Envelope]:
        fresh: list[Envelope] = []
        for pause in (*RETRY_PAUSES, None):
            try:
                results = await self._transaction(items)
            except OutcomeUnknown:
                log.error("commit of %d messages lost its answer", len(items))
                _fail(items, StorageError("the commit's outcome is unknown", "outcome_unknown"))
                return []
            except Exception as exc:  # noqa: BLE001 - every database failure is answered
                if is_outage(exc):
                    if pause is None:
                        log.error("storing %d messages failed: %s", len(items), type(exc).__name__)
                        _fail(items, StorageError("message could not be stored; retry"))
                        return []
                    log.warning("storing %d messages failed (%s); retrying", len(items), exc)
                    await asyncio.sleep(pause)
                    continue
                return await self._one_by_one(items, exc, resolving)
            for (_, done), (envelope, is_fresh) in zip(items, results, strict=True):
                if is_fresh:
                    fresh.append(envelope)
                if not done.done():
                    done.set_result(envelope)
            return fresh
        return fresh  # pragma: no cover - the loop always returns

    async def _one_by_one(
        self, items: Sequence[Item], exc: Exception, resolving: bool
    ) -> list[Envelope]:
        if len(items) == 1:
            if not resolving and isinstance(exc, IntegrityError) and items[0][0].ref is not None:
                # Another transaction stored this ref between our lookup and our insert (the
                # same resend given to two instances at once): looked up again, it resolves.
                return await self.commit(items, resolving=True)
            # Refused by the database on its own: this message can never be stored.
            log.warning("a message was refused by the database: %s", type(exc).__name__)
            _fail(items, StorageError("the database refused this message", "invalid_data"))
            return []
        fresh: list[Envelope] = []
        for item in items:
            fresh += await self.commit([item], resolving)
        return fresh

    async def _transaction(self, items: Sequence[Item]) -> list[tuple[Envelope, bool]]:
        drafts = [draft for draft, _ in items]
        if self._local is not None:
            return await self._local_transaction(self._local, drafts)
        async with self.engine.connect() as conn:
            trans = await conn.begin()
            try:
                results = await conn.run_sync(self._number_and_insert, drafts)
            except BaseException:
                await trans.rollback()
                raise
            await _committing(trans.commit())
            return results

    async def _local_transaction(
        self, local: SqliteWriter, drafts: list[Draft]
    ) -> list[tuple[Envelope, bool]]:
        """SQLite: the statements run here, between the writer's begin and commit
        (backend.storage.sqlite_writer says where each may wait, and why)."""
        conn, trans = await local.begin()
        try:
            results = self._number_and_insert(conn, drafts)
        except BaseException:
            local.rollback(conn, trans)
            raise
        await _committing(local.commit(conn, trans))
        return results

    def _number_and_insert(
        self, conn: Connection, drafts: list[Draft]
    ) -> list[tuple[Envelope, bool]]:
        known = _stored_refs(conn, drafts)
        results: list[tuple[Envelope, bool] | None] = [None] * len(drafts)
        new: dict[str, list[int]] = {}  # room -> indexes of drafts that get ids now
        claimed: dict[tuple[str, str, str], int] = {}
        for n, draft in enumerate(drafts):
            key = _ref_key(draft)
            if key is not None and key in known:
                results[n] = (known[key], False)
            elif key is not None and key in claimed:
                continue  # the same ref twice in one batch: settled below, as the first
            else:
                if key is not None:
                    claimed[key] = n
                new.setdefault(draft.room, []).append(n)
        ts = utc_timestamp()
        rows: list[dict[str, Any]] = []
        # Rooms are locked in name order: two instances' batches can never wait on each other.
        for room in sorted(new):
            indexes = new[room]
            last = self._advance(conn, room, len(indexes))
            for offset, n in enumerate(indexes):
                draft = drafts[n]
                envelope = Envelope(
                    room, last - len(indexes) + 1 + offset, ts, draft.sender.name,
                    draft.sender.id, draft.text, draft.data, draft.origin, draft.ref,
                    draft.kind, draft.target, digest=draft.digest,
                )  # fmt: skip
                results[n] = (envelope, True)
                rows.append(row_of(envelope))
        if rows:
            conn.execute(_INSERT, rows)
            blanked = apply_amendments(conn, [r[0] for r in results if r is not None and r[1]])
            for n, result in enumerate(results):
                if result is not None and (result[0].room, result[0].id) in blanked:
                    results[n] = (replace(result[0], text=""), result[1])  # as stored
        for n, draft in enumerate(drafts):
            if results[n] is None:
                key = _ref_key(draft)
                assert key is not None
                results[n] = (results[claimed[key]][0], False)  # type: ignore[index]
        return [r for r in results if r is not None]

    def _advance(self, conn: Connection, room: str, count: int) -> int:
        """Take `count` ids in `room`; returns the last of them (row-locked until commit)."""
        return int(conn.execute(self._advance_ids, {"room": room, "last_id": count}).scalar_one())


# The batch's statements are built once: building them per batch (the upsert's clauses and
# their cache key) cost more than running them, on the loop, in every delivery's path.
_INSERT = messages.insert()
_STORED_REFS = select(messages).where(
    tuple_(messages.c.room, messages.c.sender_id, messages.c.ref).in_(
        bindparam("keys", expanding=True)
    )
)


def _advance_statement(dialect: str) -> ReturningInsert[Any]:
    """room_log's upsert: a new room starts at `last_id`; a known one adds it to its own."""
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(room_log)
    return insert.on_conflict_do_update(
        index_elements=[room_log.c.room],
        set_={"last_id": room_log.c.last_id + insert.excluded.last_id},
    ).returning(room_log.c.last_id)


async def _committing(commit: Awaitable[None]) -> None:
    """The commit's outcome; a lost connection during it means nobody knows (OutcomeUnknown)."""
    try:
        await commit
    except Exception as exc:
        if is_outage(exc):
            raise OutcomeUnknown from exc
        raise


def _ref_key(draft: Draft) -> tuple[str, str, str] | None:
    return None if draft.ref is None else (draft.room, draft.sender.id, draft.ref)


def _stored_refs(conn: Connection, drafts: list[Draft]) -> dict[tuple[str, str, str], Envelope]:
    wanted = {key for draft in drafts if (key := _ref_key(draft)) is not None}
    if not wanted:
        return {}
    found = conn.execute(_STORED_REFS, {"keys": list(wanted)}).all()
    return {(r.room, r.sender_id, r.ref): envelope_of(r._mapping) for r in found}


def _fail(items: Sequence[Item], error: StorageError) -> None:
    for _, done in items:
        if not done.done():
            done.set_exception(error)
