"""The Redis broker: several instances, one order per room.

A Lua script gives each message its id (INCR of the room's counter, never below a floor) and
appends it to the room's stream in the same atomic step, so stream order is id order. Each
instance runs one reader task: XREAD BLOCK over the streams of its subscribed rooms, the shared
presence stream and its own wake stream (written on subscribe, so the reader re-issues XREAD with
the new room at once). Every instance, the author's included, delivers what the reader reads, in
stream order. This module is imported only for `redis://` URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from backend.broker.base import Broker, BrokerUnavailable, ClusterPresence, Draft, Envelope
from backend.cluster import keys, scripts
from backend.cluster.health import Backoff, Health
from backend.cluster.presence import RedisPresence
from backend.cluster.stats import PublishCounter

log = logging.getLogger("desafio.broker")

# Stream entries as redis-py decodes them (decode_responses=True): (entry id, fields).
Entries = list[tuple[str, dict[str, str]]]

STREAM_MAXLEN = 10_000  # recent messages kept per room (approximate trim: cheap for Redis)
READ_COUNT = 500  # entries per stream per XREAD
BLOCK_MS = 2_000  # an idle XREAD returns this often, which also probes Redis
QUEUED = 10_000  # envelopes read, not yet fanned out; a full queue pauses the reader


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
        self._publish = self._client.register_script(scripts.PUBLISH)
        self._health = Health()
        self._counter = PublishCounter()
        self._presence = RedisPresence(self._client, self._counter, self._health)
        self._positions: dict[str, str] = {}  # stream key -> id of the last entry read
        self._unresolved: set[str] = set()  # subscribed streams whose position is not known yet
        self._rooms: dict[str, str] = {}  # stream key -> room, for subscribed rooms
        self._floor: dict[str, int] = {}  # room -> highest id seen: the next is above it
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue(maxsize=QUEUED)
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def available(self) -> bool:
        return self._health.up

    def presence(self) -> ClusterPresence:
        return self._presence

    def raise_floor(self, room: str, last_id: int) -> None:
        """Ids in `room` continue above `last_id` (e.g. the database's latest), even if Redis
        lost its counter."""
        self._floor[room] = max(self._floor.get(room, 0), last_id)

    async def connect(self) -> None:
        # An unreachable Redis does not stop the instance: it starts not ready and the reader
        # and heartbeat keep trying until Redis answers.
        for key in (keys.PRESENCE, keys.wake(self._presence.instance)):
            self._unresolved.add(key)
        with contextlib.suppress(RedisError):
            await self._resolve()
            self._health.ok()
        self._presence.start()
        self._reader = asyncio.get_running_loop().create_task(self._read_forever(), name="xread")

    async def disconnect(self) -> None:
        self._closing = True
        if self._reader is not None:
            # Cancelling a blocked XREAD can leave redis-py waiting on the dead command, so the
            # reader is woken and left to return; cancellation is only the fallback.
            with contextlib.suppress(RedisError):
                await self._wake()
            await asyncio.wait({self._reader}, timeout=BLOCK_MS / 1000 + 1)
            self._reader.cancel()
        await self._presence.stop()
        await self._client.aclose()

    async def subscribe(self, room: str) -> None:
        key = keys.stream(room)
        self._rooms[key] = room
        self._unresolved.add(key)
        try:
            await self._resolve()
            await self._wake()
        except RedisError as exc:
            self._health.failed("subscribing", exc)  # the reader resolves it once Redis is back

    async def unsubscribe(self, room: str) -> None:
        key = keys.stream(room)
        self._rooms.pop(key, None)
        self._positions.pop(key, None)
        self._unresolved.discard(key)

    async def publish(self, draft: Draft) -> Envelope:
        payload = orjson.dumps(
            {"sender": draft.sender, "text": draft.text, "data": draft.data, "origin": draft.origin}
        )
        room = draft.room
        try:
            reply = await self._publish(
                keys=[keys.seq(room), keys.stream(room)],
                args=[max(draft.floor, self._floor.get(room, 0)), STREAM_MAXLEN, payload],
            )
        except RedisError as exc:
            self._health.failed("publishing", exc)
            raise BrokerUnavailable("the message broker is unreachable; retry later") from exc
        self._health.ok()
        mid, sid = int(reply[0]), str(reply[1])
        self.raise_floor(room, mid)
        self._counter.record()
        return Envelope(room, mid, _ts(sid), draft.sender, draft.text, draft.data, draft.origin)

    async def next_published(self) -> Envelope:
        return await self._queue.get()

    async def recent(self, room: str, after: int, limit: int) -> list[Envelope]:
        try:
            entries = cast(Entries, await self._client.xrevrange(keys.stream(room), count=limit))
        except RedisError as exc:
            raise BrokerUnavailable("the message broker is unreachable") from exc
        found = (_envelope(room, sid, fields) for sid, fields in reversed(entries))
        return [envelope for envelope in found if envelope.id > after]

    async def _wake(self) -> None:
        """Make the reader's XREAD return now (it then re-reads the set of rooms)."""
        await self._client.xadd(keys.wake(self._presence.instance), {"w": "1"}, maxlen=1)

    async def _resolve(self) -> None:
        """Start each new stream at its current end: only what comes next is this instance's."""
        for key in list(self._unresolved):
            last = cast(Entries, await self._client.xrevrange(key, count=1))
            if key in self._unresolved:  # not unsubscribed meanwhile
                self._positions[key] = last[0][0] if last else "0-0"
                self._unresolved.discard(key)

    async def _read_forever(self) -> None:
        backoff = Backoff()
        while not self._closing:
            try:
                await self._resolve()
                streams: dict[Any, Any] = dict(self._positions)
                reply = await self._client.xread(streams, count=READ_COUNT, block=BLOCK_MS)
            except RedisError as exc:
                self._health.failed("reading streams", exc)
                await asyncio.sleep(backoff.next())
                continue
            self._health.ok()
            backoff.reset()
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
        envelope = _envelope(room, sid, fields)
        self.raise_floor(room, envelope.id)
        await self._queue.put(envelope)


def _envelope(room: str, sid: str, fields: Mapping[str, str]) -> Envelope:
    body = orjson.loads(fields["m"])
    return Envelope(
        room=room,
        id=int(fields["id"]),
        ts=_ts(sid),
        sender=body["sender"],
        text=body["text"],
        data=body["data"],
        origin=body["origin"],
    )


def _ts(stream_id: str) -> str:
    """The stream id's milliseconds (Redis's clock, so one clock for the cluster) as ISO-8601."""
    millis = int(stream_id.split("-", 1)[0])
    stamp = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _streams(reply: Any) -> list[tuple[str, Entries]]:
    """XREAD answers a list of [key, entries] (RESP2) or a mapping key -> [entries] (RESP3)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [(key, value[0]) for key, value in reply.items()]
    return [(key, entries) for key, entries in reply]
