"""The hub: who is in which room, and the fan-out of every message to them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import orjson

from backend import tasks
from backend.broker import Broker, Resync
from backend.budgets import RequestRates
from backend.config import Settings
from backend.hub.connection import Connection, Mode, QueueLimits
from backend.hub.fanout import fan_out
from backend.hub.outbound import Outgoing
from backend.hub.presence import PresenceFanout
from backend.hub.publishing import Publisher
from backend.hub.ratelimit import TokenBucket
from backend.hub.sequencer import Sequencer
from backend.hub.sinks import Flusher, Sink
from backend.hub.stats import Traffic, snapshot
from backend.hub.typing import TypingRelay
from backend.identity import Sender
from backend.messages import Envelope
from backend.metrics import Metrics
from backend.storage import Store
from backend.storage.retention import enforce_retention
from backend.tasks import supervise

log = logging.getLogger("desafio.hub")

# How many member names a `subscribed` object lists (the count is always exact).
MEMBERS_LISTED = 200
# Messages the pump fans out before it yields to the event loop.
PUMP_BATCH = 256


def listed(members: Iterable[Connection], but: Connection | None = None) -> list[dict[str, Any]]:
    """The roster of `members` a `subscribed` object lists: at most MEMBERS_LISTED, observers and
    `but` left out."""
    shown = (m for m in members if not m.observer and m is not but)
    return [m.sender.public() for m in itertools.islice(shown, MEMBERS_LISTED)]


class Hub:
    """Rooms of connections, fed by the room logs.

    Publishing goes to the store, which numbers and commits the message; the commit hands it to
    the broker, which brings it to every instance (this one included); the pump puts each room's
    messages in id order (the sequencer) and fans them out here. One instance or many, messages
    take that same path. The fan-out serializes each message once per mode and never awaits a
    recipient.
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
        self.publisher = Publisher(settings, store)
        self.sequencer = Sequencer(store, self.fanout)
        store.on_commit = self.committed
        # Told of every message once it is committed, on the instance that published it (Web
        # Push, backend/push). Each must return at once and never raise.
        self.listeners: list[Callable[[Envelope], None]] = []
        self.draining = False
        self.flusher = Flusher()
        self.presence = PresenceFanout(self.rooms)
        metrics.watch(
            lambda: (conn.queued for conn in self.connections.values()),
            broker.backlog,
            lambda: broker.available,
        )
        # Ephemeral "is typing" notices, never stored; carried by the broker to every instance.
        self.typing = TypingRelay(self.rooms, broker.publish)
        # Joins and leaves per identity (Connection.quota_key), beside each connection's own.
        self.room_changes = RequestRates(
            settings.room_changes_per_identity_per_second, settings.room_changes_per_identity_burst
        )
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
        self._pump = supervise("hub-pump", self._run_pump)
        if s.retention_max_age_seconds or s.retention_max_per_room:
            self._retention = supervise(
                "retention",
                partial(
                    enforce_retention,
                    self.store,
                    s.retention_max_age_seconds,
                    s.retention_max_per_room,
                    s.retention_interval_seconds,
                ),
            )
        self.ready = True

    async def drain(self, timeout: float = 5.0) -> None:
        """Before connections close at shutdown: refuse new publishes, commit what was accepted,
        fan it out, and flush every connection (SIGTERM loses nothing accepted)."""
        self.ready = False
        self.draining = True
        try:
            await asyncio.wait_for(self._settle(), timeout)
        except TimeoutError:
            log.warning("shutdown: messages still in flight after %.1fs", timeout)
        for conn in list(self.connections.values()):
            conn.flush_now()

    async def _settle(self) -> None:
        await self.store.flush()
        while self.broker.backlog() or self.sequencer.filling():
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.drain()
        for conn in list(self.connections.values()):
            conn.flush_now()
            conn.close(1001, "server shutting down")
        await tasks.stop(self._pump, self._retention)
        self.sequencer.stop()
        await self.broker.disconnect()
        await self.store.stop()

    # Connections and rooms

    def open(self, sender: Sender, mode: Mode, sink: Sink, observer: bool = False) -> Connection:
        cid = next(self._ids)
        s = self.settings
        conn = Connection(
            cid=cid,
            key=f"{self.instance}:{cid}",
            sender=sender,
            mode=mode,
            sink=sink,
            limits=self._limits,
            bucket=TokenBucket(s.rate_limit_per_second, s.rate_limit_burst),
            on_slow=self._slow_consumer,
            observer=observer,
        )
        self.connections[conn.key] = conn
        self.metrics.connections.labels(mode.value).inc()
        log.info("connection %s opened: mode=%s", cid, mode.value)
        return conn

    async def join(self, conn: Connection, room: str) -> list[dict[str, Any]]:
        """Add `conn` to `room`; returns who was already there (at most 200, as `roster`)."""
        members = self.rooms.get(room)
        opening = members is None
        if members is None:
            members = self.rooms[room] = set()
            self.metrics.rooms.set(len(self.rooms))
            self.sequencer.open(room)
        # Only a JSON-mode client is told who is there (a text client would be handed 200 dicts
        # to drop: that was a third of the time to connect one).
        names = listed(members) if conn.mode is Mode.JSON else []
        # A member before the room's feed starts: what commits while its position is read is
        # fanned out as soon as it is known, and this connection must be among the receivers.
        members.add(conn)
        conn.rooms.add(room)
        if opening:
            await self.broker.subscribe(room)
            await self.sequencer.start(room)
            if room not in conn.rooms:
                return names  # it left (or ended) while the room opened
            # Who joined meanwhile was announced to this connection already: the roster says
            # so too, or it would contradict the presence it follows.
            names = listed(members, but=conn) if conn.mode is Mode.JSON else []
        self.presence.joined(conn, room)
        if conn.observer:
            # Never announced nor recorded in the cluster's presence; told who is there.
            if self.cluster is not None and (
                shared := await self.cluster.roster(room, MEMBERS_LISTED)
            ):
                return shared[1]
            return names
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
            self.sequencer.close(room)
            self.traffic.forget(room)
            self.metrics.rooms.set(len(self.rooms))
            await self.broker.unsubscribe(room)
        if conn.observer:
            return
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
        return self.presence.members(room)

    # Messages

    def publish(
        self,
        conn: Connection,
        room: str,
        text: str,
        data: dict[str, Any] | None = None,
        ref: str | None = None,
    ) -> asyncio.Future[Envelope]:
        """Store a message; its fan-out follows the commit. See Publisher.publish."""
        self.metrics.messages_in.labels(conn.mode.value).inc()
        outcome = self.publisher.publish(
            conn.sender, conn.key, room, text, data, ref, quota_key=conn.quota_key
        )
        self.metrics.time_store_write(outcome)
        return outcome

    def publish_as(
        self, sender: Sender, room: str, text: str, data: dict[str, Any] | None, ref: str | None
    ) -> asyncio.Future[Envelope]:
        """Publish with no connection behind it (the admin HTTP API): same log, same refs."""
        outcome = self.publisher.publish(sender, f"{self.instance}:server", room, text, data, ref)
        self.metrics.time_store_write(outcome)
        return outcome

    def committed(self, envelopes: list[Envelope]) -> None:
        """The store committed these (fresh, in id order per room): to every instance."""
        for envelope in envelopes:
            self.broker.publish(envelope)
            self.traffic.record_published(envelope.room, envelope.ts)
            if envelope.kind != "message":
                continue  # listeners (Web Push) are told of new messages, not of amendments
            for listener in self.listeners:
                try:
                    listener(envelope)
                except Exception:  # a listener's bug must not cost anyone a delivery
                    log.exception("commit listener failed for message %s", envelope.id)

    async def _run_pump(self) -> None:
        fanned = 0
        while True:
            item = await self.broker.next_published()
            try:
                if isinstance(item, Resync):
                    self.sequencer.resync()
                elif item.kind == "typing":
                    self.typing.deliver(item)  # ephemeral: not an entry of the log
                else:
                    self.sequencer.offer(item)
            except Exception:  # a bug here must not stop delivery for everyone
                log.exception("fan-out failed")
            fanned += 1
            if fanned % PUMP_BATCH == 0:
                # A deep backlog would otherwise keep the loop to ourselves: let the flusher
                # write what was gathered, and other connections' reads run.
                await asyncio.sleep(0)

    def fanout(self, envelope: Envelope) -> None:
        self.traffic.record(envelope.room, envelope.ts)
        members = self.rooms.get(envelope.room)
        if members:
            self.metrics.delivered(envelope.ts)
            fan_out(envelope, members, self.connections.get(envelope.origin), self.metrics)

    def send(self, conn: Connection, obj: dict[str, Any]) -> None:
        """A reply to one connection, queued behind what it already has."""
        conn.deliver(Outgoing(orjson.dumps(obj)))

    def _slow_consumer(self, conn: Connection) -> None:
        self.metrics.slow_consumers.inc()
        log.warning(
            "connection %s is a slow consumer (%d queued): closing with 4000", conn.id, conn.queued
        )
