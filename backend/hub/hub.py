"""The hub: who is in which room, and the fan-out of every message to them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from functools import partial
from typing import Any

import orjson

from backend.broker import Broker, Envelope
from backend.config import Settings
from backend.hub.connection import Connection, Mode, QueueLimits
from backend.hub.fanout import fan_out
from backend.hub.outbound import Outgoing
from backend.hub.presence import PresenceFanout
from backend.hub.publishing import Publisher
from backend.hub.ratelimit import TokenBucket
from backend.hub.sinks import Flusher, RawSink, Sink
from backend.hub.stats import Traffic, snapshot
from backend.metrics import Metrics
from backend.storage import Store
from backend.storage.retention import enforce_retention

log = logging.getLogger("desafio.hub")

# How many member names a `subscribed` object lists (the count is always exact).
MEMBERS_LISTED = 200
# Messages the pump fans out before it yields to the event loop.
PUMP_BATCH = 256


class Hub:
    """Rooms of connections, fed by the broker.

    Publishing goes to the broker, which sequences the message; the pump takes what the broker
    hands back and fans it out here. One instance or many, messages take that same path. The
    fan-out serializes each message once per mode and never awaits a recipient.
    """

    def __init__(self, settings: Settings, broker: Broker, metrics: Metrics, store: Store) -> None:
        self.settings = settings
        self.broker = broker
        self.metrics = metrics
        self.store = store
        self.instance = uuid.uuid4().hex[:12]
        self.rooms: dict[str, set[Connection]] = {}
        self.connections: dict[str, Connection] = {}
        self.traffic = Traffic()
        self.ready = False
        self._ids = itertools.count(1)
        self._limits = QueueLimits(settings.outbound_queue_messages, settings.outbound_queue_bytes)
        self._pump: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None
        self.publisher = Publisher(settings, broker, store)
        self.flusher = Flusher()
        self.presence = PresenceFanout(self.rooms)
        # Cluster (redis://): presence and /stats span every instance; None with memory://.
        self.cluster = broker.presence()
        if self.cluster is not None:
            self.cluster.bind(
                self.instance, self.rooms, partial(snapshot, self), self.presence.deliver
            )

    async def start(self) -> None:
        s = self.settings
        await self.store.start()
        await self.broker.connect()
        loop = asyncio.get_running_loop()
        self._pump = loop.create_task(self._run_pump(), name="hub-pump")
        if s.retention_max_age_seconds or s.retention_max_per_room:
            self._retention = loop.create_task(
                enforce_retention(
                    self.store,
                    s.retention_max_age_seconds,
                    s.retention_max_per_room,
                    s.retention_interval_seconds,
                ),
                name="retention",
            )
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for conn in list(self.connections.values()):
            conn.flush_now()
            conn.close(1001, "server shutting down")
        for task in (self._pump, self._retention):
            if task is not None:
                task.cancel()
        await self.broker.disconnect()
        await self.store.stop()

    # Connections and rooms

    def open(self, name: str | None, mode: Mode, sink: Sink) -> Connection:
        cid = next(self._ids)
        s = self.settings
        conn = Connection(
            cid=cid,
            key=f"{self.instance}:{cid}",
            name=name or f"guest-{cid}",
            mode=mode,
            sink=sink,
            limits=self._limits,
            bucket=TokenBucket(s.rate_limit_per_second, s.rate_limit_burst),
            on_slow=self._slow_consumer,
        )
        if isinstance(sink, RawSink):
            sink.protocol.on_shutdown = conn.flush_now
            # uvicorn's own closes (shutdown, oversized frame) wait this long for the peer too.
            sink.protocol.close_timeout = s.close_timeout
        self.connections[conn.key] = conn
        self.metrics.connections.labels(mode.value).inc()
        log.info("connection %s opened: mode=%s", cid, mode.value)
        return conn

    async def join(self, conn: Connection, room: str) -> list[str]:
        """Add `conn` to `room`; returns the names of those already there (at most 200)."""
        members = self.rooms.get(room)
        if members is None:
            members = self.rooms[room] = set()
            self.metrics.rooms.set(len(self.rooms))
            await self.broker.subscribe(room)
        names = [m.name for m in itertools.islice(members, MEMBERS_LISTED)]
        members.add(conn)
        conn.rooms.add(room)
        self.presence.joined(conn, room)
        if self.cluster is not None:
            shared = await self.cluster.join(room, conn, MEMBERS_LISTED)
            if shared is not None:
                return shared[1]  # everyone, here too, hears of it through self.presence.deliver
        self.presence.announce(room, "join", conn)
        return names

    async def leave(self, conn: Connection, room: str) -> None:
        members = self.rooms.get(room)
        conn.rooms.discard(room)
        if members is None or conn not in members:
            return
        members.discard(conn)
        self.presence.left(conn, room)
        if not members:
            del self.rooms[room]
            self.traffic.forget(room)
            self.metrics.rooms.set(len(self.rooms))
            await self.broker.unsubscribe(room)
        # After the bookkeeping: announcing may await Redis, and another leave may run meanwhile.
        if self.cluster is None or not await self.cluster.leave(room, conn):
            self.presence.announce(room, "leave", conn)

    async def disconnect(self, conn: Connection, code: int | None) -> None:
        """Forget a connection that ended, whoever ended it."""
        if self.connections.pop(conn.key, None) is None:
            return
        conn.closed()
        for room in list(conn.rooms):
            await self.leave(conn, room)
        self.metrics.connections.labels(conn.mode.value).dec()
        log.info("connection %s closed: code=%s", conn.id, conn.close_code or code)

    def count(self, room: str) -> int:
        if self.cluster is not None and (shared := self.cluster.count(room)) is not None:
            return shared
        return len(self.rooms.get(room, ()))

    # Messages

    async def publish(
        self,
        conn: Connection,
        room: str,
        text: str,
        data: dict[str, Any] | None = None,
        ref: str | None = None,
    ) -> asyncio.Future[Envelope]:
        """Sequence, fan out and store a message; see Publisher.publish."""
        self.metrics.messages_in.labels(conn.mode.value).inc()
        return await self.publisher.publish(conn, room, text, data, ref)

    async def _run_pump(self) -> None:
        fanned = 0
        while True:
            envelope = await self.broker.next_published()
            try:
                self.fanout(envelope)
            except Exception:  # a bug here must not stop delivery for everyone
                log.exception("fan-out of message %s in room %s failed", envelope.id, envelope.room)
            fanned += 1
            if fanned % PUMP_BATCH == 0:
                # A deep backlog would otherwise keep the loop to ourselves: let the flusher
                # write what was gathered, and other connections' reads run.
                await asyncio.sleep(0)

    def fanout(self, envelope: Envelope) -> None:
        self.traffic.record(envelope.room, envelope.ts)
        members = self.rooms.get(envelope.room)
        if members:
            fan_out(envelope, members, self.connections.get(envelope.origin), self.metrics)

    def send(self, conn: Connection, obj: dict[str, Any]) -> None:
        """A reply to one connection, queued behind what it already has."""
        conn.deliver(Outgoing(orjson.dumps(obj)))

    def _slow_consumer(self, conn: Connection) -> None:
        self.metrics.slow_consumers.inc()
        log.warning(
            "connection %s is a slow consumer (%d queued): closing with 4000", conn.id, conn.queued
        )
