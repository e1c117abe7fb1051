"""The hub: who is in which room, and the fan-out of every message to them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from typing import Any

import orjson

from backend.broker import Broker, Draft, Envelope
from backend.config import Settings
from backend.hub.connection import Connection, Mode, QueueLimits, State
from backend.hub.outbound import Outgoing, RawSink, Sink
from backend.hub.ratelimit import TokenBucket
from backend.hub.stats import Traffic
from backend.metrics import Metrics
from backend.protocol import encode

log = logging.getLogger("desafio.hub")

# How many member names a `subscribed` object lists (the count is always exact).
MEMBERS_LISTED = 200


class Hub:
    """Rooms of connections, fed by the broker.

    Publishing goes to the broker, which sequences the message; the pump takes what the broker
    hands back and fans it out here. One instance or many, messages take that same path. The
    fan-out serializes each message once per mode and never awaits a recipient.
    """

    def __init__(self, settings: Settings, broker: Broker, metrics: Metrics) -> None:
        self.settings = settings
        self.broker = broker
        self.metrics = metrics
        self.instance = uuid.uuid4().hex[:12]
        self.rooms: dict[str, set[Connection]] = {}
        self.connections: dict[str, Connection] = {}
        self.traffic = Traffic()
        self.ready = False
        self._ids = itertools.count(1)
        self._limits = QueueLimits(settings.outbound_queue_messages, settings.outbound_queue_bytes)
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.broker.connect()
        self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name="hub-pump")
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for conn in list(self.connections.values()):
            conn.flush_now()
            conn.close(1001, "server shutting down")
        if self._pump is not None:
            self._pump.cancel()
        await self.broker.disconnect()

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
        self._presence(room, "join", conn)
        return names

    async def leave(self, conn: Connection, room: str) -> None:
        members = self.rooms.get(room)
        conn.rooms.discard(room)
        if members is None or conn not in members:
            return
        members.discard(conn)
        self._presence(room, "leave", conn)
        if not members:
            del self.rooms[room]
            self.traffic.forget(room)
            self.metrics.rooms.set(len(self.rooms))
            await self.broker.unsubscribe(room)

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
        return len(self.rooms.get(room, ()))

    # Messages

    async def publish(
        self, conn: Connection, room: str, text: str, data: dict[str, Any] | None = None
    ) -> Envelope:
        self.metrics.messages_in.labels(conn.mode.value).inc()
        draft = Draft(room=room, sender=conn.name, text=text, data=data, origin=conn.key)
        return await self.broker.publish(draft)

    async def _run_pump(self) -> None:
        while True:
            envelope = await self.broker.next_published()
            try:
                self.fanout(envelope)
            except Exception:  # a bug here must not stop delivery for everyone
                log.exception("fan-out of message %s in room %s failed", envelope.id, envelope.room)

    def fanout(self, envelope: Envelope) -> None:
        members = self.rooms.get(envelope.room)
        self.traffic.record(envelope.room, envelope.ts)
        if not members:
            return
        started = time.perf_counter()
        author = self.connections.get(envelope.origin)
        as_text: Outgoing | None = None
        as_json: Outgoing | None = None
        delivered = 0
        for conn in members:
            if conn is author:
                continue
            if conn.mode is Mode.TEXT:
                if as_text is None:
                    as_text = Outgoing(envelope.text.encode())
                conn.deliver(as_text)
            else:
                if as_json is None:
                    as_json = Outgoing(orjson.dumps(envelope.as_message()))
                conn.deliver(as_json)
            delivered += 1
        self.metrics.deliveries.inc(delivered)
        self.metrics.fanout_seconds.observe(time.perf_counter() - started)

    def send(self, conn: Connection, obj: dict[str, Any]) -> None:
        """A reply to one connection, queued behind what it already has."""
        conn.deliver(Outgoing(orjson.dumps(obj)))

    def _presence(self, room: str, event: str, subject: Connection) -> None:
        members = self.rooms.get(room, ())
        item: Outgoing | None = None
        for conn in members:
            if conn is subject or conn.mode is not Mode.JSON:
                continue
            if item is None:
                obj = {
                    "type": "presence",
                    "room": room,
                    "event": event,
                    "name": subject.name,
                    "count": len(members),
                }
                item = Outgoing(encode(obj).encode())
            conn.deliver(item)

    def _slow_consumer(self, conn: Connection) -> None:
        self.metrics.slow_consumers.inc()
        log.warning(
            "connection %s is a slow consumer (%d queued): closing with 4000", conn.id, conn.queued
        )

    def stats(self) -> dict[str, Any]:
        by_mode = {mode.value: 0 for mode in Mode}
        for conn in self.connections.values():
            if conn.state is State.OPEN:
                by_mode[conn.mode.value] += 1
        rooms = {}
        for room, members in sorted(self.rooms.items()):
            traffic = self.traffic.rooms.get(room)
            rooms[room] = {
                "connections": len(members),
                "messages": traffic.messages if traffic else 0,
                "last_message_at": traffic.last_message_at if traffic else None,
            }
        return {
            "instance": self.instance,
            "uptime_seconds": round(self.traffic.uptime, 3),
            "connections": {"total": sum(by_mode.values()), **by_mode},
            "messages_total": self.traffic.messages,
            "messages_per_second": self.traffic.per_second(),
            "rooms": rooms,
        }
