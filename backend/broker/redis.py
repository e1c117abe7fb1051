"""The Redis broker: brings every instance the messages other instances committed.

Redis never numbers messages and is never asked whether a publish happened: the shared database
did both when it committed (backend/storage/writer.py). An instance hands its own commits to its
own pump at once and appends them to the room's stream in the background (XADD, pipelined); a
failed or repeated append is harmless, because each instance's sequencer drops ids it already
fanned out and reads any gap from the database. Each instance runs one reader task: XREAD BLOCK
over the streams of its subscribed rooms, the shared presence stream and its own wake stream
(written on subscribe, so the reader re-issues XREAD with the new room at once). After any read
failure (a stall, a restart), and when a peer stops beating (killed, its last appends maybe never
made), the hub is asked to resync every room from the database.
This module is imported only for `redis://` URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any, cast

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from backend.backoff import Backoff
from backend.broker.base import Broker, ClusterPresence
from backend.cluster import keys
from backend.cluster.health import Health
from backend.cluster.presence import RedisPresence
from backend.cluster.stats import PublishCounter
from backend.messages import Envelope, Resync
from backend.tasks import supervise

log = logging.getLogger("desafio.broker")

# Stream entries as redis-py decodes them (decode_responses=True): (entry id, fields).
Entries = list[tuple[str, dict[str, str]]]

STREAM_MAXLEN = 10_000  # recent messages kept per room (approximate trim: cheap for Redis)
READ_COUNT = 500  # entries per stream per XREAD
BLOCK_MS = 2_000  # an idle XREAD returns this often, which also probes Redis
QUEUED = 10_000  # envelopes read, not yet fanned out; a full queue pauses the reader
OUTBOX = 10_000  # commits not yet appended to Redis; past this the oldest are dropped (resync)
QUICK_TIMEOUT_S = 1.0  # a Redis call a client waits for (Redis answers in well under 1 ms)


class RedisBroker(Broker):
    def __init__(self, url: str) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            # Bounded: under load publishers wait for a connection instead of opening more.
            max_connections=64,
            timeout=5,
            socket_timeout=BLOCK_MS / 1000 + 3,
            socket_connect_timeout=2,
            # One immediate retry replaces a pooled connection that died with a Redis restart;
            # longer waits are the reader's backoff, not every caller's.
            retry=Retry(NoBackoff(), 1),
            decode_responses=True,
        )
        self._client = Redis.from_pool(pool)
        # The reader has a connection of its own and never retries by itself: a connection it
        # loses is an interval in which entries may have been missed (a restart loses them),
        # so it must see the error and ask for a resync, not be reconnected in silence.
        self._reading = Redis.from_url(
            url,
            socket_timeout=BLOCK_MS / 1000 + 3,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        # For the calls a client waits for (its subscribe, its room's presence): a stalled Redis
        # costs them QUICK_TIMEOUT_S once, then nothing while Redis is known down (Health.down).
        quick_pool = BlockingConnectionPool.from_url(
            url,
            max_connections=32,
            timeout=QUICK_TIMEOUT_S,
            socket_timeout=QUICK_TIMEOUT_S,
            socket_connect_timeout=QUICK_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            decode_responses=True,
        )
        self._quick = Redis.from_pool(quick_pool)
        self._health = Health()
        self._counter = PublishCounter()
        self._presence = RedisPresence(self._client, self._quick, self._counter, self._health)
        self._presence.on_peer_lost = self._peer_lost
        self._positions: dict[str, str] = {}  # stream key -> id of the last entry read
        self._unresolved: set[str] = set()  # subscribed streams whose position is not known yet
        self._late: set[str] = set()  # among them, those whose subscribe could not resolve them
        self._rooms: dict[str, str] = {}  # stream key -> room, for subscribed rooms
        # Unbounded for this instance's own commits (handed over without waiting); the reader
        # pauses while it holds more than QUEUED.
        self._queue: asyncio.Queue[Envelope | Resync] = asyncio.Queue()
        self._outbox: deque[Envelope] = deque(maxlen=OUTBOX)
        self._outbox_ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._appender: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def available(self) -> bool:
        return self._health.up

    def presence(self) -> ClusterPresence:
        return self._presence

    def backlog(self) -> int:
        return self._queue.qsize()

    @property
    def _own(self) -> str:
        """The origin prefix of this instance's connections (presence knows the instance)."""
        return self._presence.instance + ":"

    async def connect(self) -> None:
        # An unreachable Redis does not stop the instance: it starts not ready and the reader
        # and heartbeat keep trying until Redis answers.
        for key in (keys.PRESENCE, keys.wake(self._presence.instance)):
            self._unresolved.add(key)
        with contextlib.suppress(RedisError):
            await self._resolve()
            self._health.ok()
        self._presence.start()
        self._reader = supervise("redis-reader", self._read_forever)
        self._appender = supervise("redis-appender", self._append_forever)

    async def disconnect(self) -> None:
        self._closing = True
        if self._reader is not None:
            # Cancelling a blocked XREAD can leave redis-py waiting on the dead command, so the
            # reader is woken and left to return; cancellation is only the fallback.
            with contextlib.suppress(RedisError):
                await self._wake()
            await asyncio.wait({self._reader}, timeout=BLOCK_MS / 1000 + 1)
            self._reader.cancel()
        if self._appender is not None:
            self._outbox_ready.set()  # one last round for what is still in the outbox
            await asyncio.wait({self._appender}, timeout=2)
            self._appender.cancel()
        await self._presence.stop()
        await self._client.aclose()
        await self._quick.aclose()
        await self._reading.aclose()

    async def subscribe(self, room: str) -> None:
        key = keys.stream(room)
        self._rooms[key] = room
        self._unresolved.add(key)
        if self._health.down:
            self._late.add(key)  # the reader resolves it once Redis is back
            return
        try:
            await self._resolve(self._quick)
            await self._wake(self._quick)
        except RedisError as exc:
            self._late.add(key)  # the reader resolves it once Redis is back
            self._health.failed("subscribing", exc)

    async def unsubscribe(self, room: str) -> None:
        key = keys.stream(room)
        self._rooms.pop(key, None)
        self._positions.pop(key, None)
        self._unresolved.discard(key)
        self._late.discard(key)

    def publish(self, envelope: Envelope) -> None:
        self._queue.put_nowait(envelope)  # this instance's subscribers need no round trip
        self._outbox.append(envelope)
        self._outbox_ready.set()
        if envelope.kind == "message":  # /stats counts messages, not edits or typing notices
            self._counter.record()

    async def next_published(self) -> Envelope | Resync:
        return await self._queue.get()

    async def _append_forever(self) -> None:
        """XADD what this instance committed, in commit order, pipelined; retried on failure."""
        backoff = Backoff(initial=0.1, maximum=2.0)
        while not self._closing or self._outbox:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                batch = list(self._outbox)
                pipe = self._client.pipeline(transaction=False)
                for envelope in batch:
                    pipe.xadd(
                        keys.stream(envelope.room),
                        {"id": envelope.id, "m": _payload(envelope)},
                        maxlen=STREAM_MAXLEN,
                        approximate=True,
                    )
                try:
                    await pipe.execute()
                except (RedisError, OSError) as exc:
                    self._health.failed("appending to streams", exc)
                    if self._closing:
                        return
                    await asyncio.sleep(backoff.next())
                    continue
                backoff.reset()
                for _ in range(min(len(batch), len(self._outbox))):
                    self._outbox.popleft()

    def _peer_lost(self) -> None:
        self._queue.put_nowait(Resync())  # every followed room, read again from the database

    async def _wake(self, client: Redis | None = None) -> None:
        """Make the reader's XREAD return now (it then re-reads the set of rooms)."""
        wake = keys.wake(self._presence.instance)
        await (client or self._client).xadd(wake, {"w": "1"}, maxlen=1)

    async def _resolve(self, client: Redis | None = None) -> bool:
        """Start each new stream at its current end: only what comes next is this instance's.
        True when a stream resolved late (its subscribe could not reach Redis): what was
        appended between the room's start and now was skipped, and must be read from the
        database (a Resync), or it would wait for the room's next message."""
        late = False
        for key in list(self._unresolved):
            last = cast(Entries, await (client or self._client).xrevrange(key, count=1))
            if key in self._unresolved:  # not unsubscribed meanwhile
                self._positions[key] = last[0][0] if last else "0-0"
                self._unresolved.discard(key)
                if key in self._late:
                    self._late.discard(key)
                    late = True
        return late

    async def _read_forever(self) -> None:
        backoff = Backoff(initial=0.1, maximum=2.0)
        missed = False
        while not self._closing:
            while self._queue.qsize() > QUEUED:
                await asyncio.sleep(0.01)  # the pump is behind: read no further for now
            try:
                missed = await self._resolve() or missed
                streams: dict[Any, Any] = dict(self._positions)
                reply = await self._reading.xread(streams, count=READ_COUNT, block=BLOCK_MS)
            except (RedisError, OSError) as exc:  # a reset socket can surface as either
                self._health.failed("reading streams", exc)
                missed = True
                await asyncio.sleep(backoff.next())
                continue
            self._health.ok()
            backoff.reset()
            if missed:
                # Whatever was appended while we could not read may be gone (a restart) or
                # never appended (its instance died): the database has it all.
                missed = False
                self._queue.put_nowait(Resync())
            for key, entries in _streams(reply):
                for sid, fields in entries:
                    try:
                        await self._dispatch(key, sid, fields)
                    except (KeyError, TypeError, ValueError) as exc:
                        # A malformed entry (another version, a hand-written XADD) is skipped;
                        # it must not stop delivery of everything after it.
                        self._positions[key] = sid
                        log.error("skipped unreadable entry %s of %s: %r", sid, key, exc)

    async def _dispatch(self, key: str, sid: str, fields: Mapping[str, str]) -> None:
        if key == keys.PRESENCE:
            self._positions[key] = sid
            self._presence.handle(fields)
            return
        room = self._rooms.get(key)
        if key not in self._positions:
            return  # unsubscribed while this batch was in flight
        self._positions[key] = sid
        if room is None:
            return  # the wake stream: it only interrupts the XREAD
        envelope = _envelope(room, fields)
        if not envelope.origin.startswith(self._own):
            self._queue.put_nowait(envelope)  # our own went to the pump when committed


def _payload(envelope: Envelope) -> bytes:
    return orjson.dumps(
        {
            "ts": envelope.ts,
            "sender": envelope.sender,
            "sender_id": envelope.sender_id,
            "text": envelope.text,
            "data": envelope.data,
            "origin": envelope.origin,
            # Edits and deletes travel as entries of the log too (docs/decisions.md).
            "kind": envelope.kind,
            "target": envelope.target,
        }
    )


def _envelope(room: str, fields: Mapping[str, str]) -> Envelope:
    body = orjson.loads(fields["m"])
    return Envelope(
        room=room,
        id=int(fields["id"]),
        ts=body["ts"],
        sender=body["sender"],
        sender_id=body["sender_id"],
        text=body["text"],
        data=body["data"],
        origin=body["origin"],
        kind=body.get("kind", "message"),
        target=body.get("target"),
    )


def _streams(reply: Any) -> list[tuple[str, Entries]]:
    """XREAD answers a list of [key, entries] (RESP2) or a mapping key -> [entries] (RESP3)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [(key, value[0]) for key, value in reply.items()]
    return [(key, entries) for key, entries in reply]
