"""Cluster-wide presence over Redis: who is in each room on every instance.

Each instance records its members in per-room hashes and beats a heartbeat key (its /stats
snapshot) every HEARTBEAT_SECONDS with a TTL of TTL_MS. Every instance sweeps the others on each
beat: one whose heartbeat expired is reaped, its members removed and announced as leaves. So a
killed instance's clients leave presence within TTL_MS + HEARTBEAT_SECONDS (about 6 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Set
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.broker.base import ClusterPresence, Member, PresenceEvent
from backend.cluster import keys, scripts
from backend.cluster.health import Health
from backend.cluster.stats import PublishCounter, merge
from backend.identity import Sender
from backend.tasks import supervise

log = logging.getLogger("desafio.cluster")

HEARTBEAT_SECONDS = 1.0
TTL_MS = 5_000  # five missed beats: a busy event loop is not mistaken for a dead instance
PRESENCE_MAXLEN = 10_000  # the shared event stream is trimmed to about this many entries


class RedisPresence(ClusterPresence):
    """Presence shared through Redis; the Redis broker feeds it the events its reader reads."""

    def __init__(
        self, client: Redis, quick: Redis, counter: PublishCounter, health: Health
    ) -> None:
        self.instance = "unbound"
        self._client = client
        # Joins, leaves and rosters are on a client's path (its subscribe waits for them): they
        # go through a client with a short timeout, and are skipped while Redis is known down.
        self._quick = quick
        self._counter = counter
        self._health = health
        self._script = client.register_script(scripts.PRESENCE)
        self._reap = client.register_script(scripts.REAP)
        self._resync_script = client.register_script(scripts.RESYNC)
        self._rooms: Mapping[str, Set[Member]] = {}
        self._local_stats: Callable[[], dict[str, Any]] = dict
        self._counts: dict[str, int] = {}
        self._others: list[dict[str, Any]] = []
        self._on_event: Callable[[PresenceEvent], None] = lambda event: None
        self._beating: asyncio.Task[None] | None = None
        self._wake_beat = asyncio.Event()
        # Set whenever Redis may not hold our members as they are: first beat, after an outage.
        self._resync = True
        self._stopped = False
        # Peers seen beating at the last beat, and who to tell when one of them stops.
        self._alive: set[str] = set()
        self.on_peer_lost: Callable[[], None] = lambda: None

    def bind(
        self,
        instance: str,
        rooms: Mapping[str, Set[Member]],
        local_stats: Callable[[], dict[str, Any]],
        on_event: Callable[[PresenceEvent], None],
    ) -> None:
        self.instance = instance
        self._rooms = rooms
        self._local_stats = local_stats
        self._on_event = on_event

    def start(self) -> None:
        self._beating = supervise("presence-heartbeat", self._beat_forever)

    async def stop(self) -> None:
        """Stop beating and withdraw our members at once (announcing them as leaves)."""
        self._stopped = True
        if self._beating is not None:
            # Cancelled only while asleep: cancelling a Redis command in flight can hang redis-py.
            self._wake_beat.set()
            await asyncio.wait({self._beating}, timeout=HEARTBEAT_SECONDS + 5)
            self._beating.cancel()
        # If Redis is down, our heartbeat expires and a peer reaps us once Redis is back.
        with contextlib.suppress(RedisError):
            await self._reap_instance(self.instance, force=True)

    async def join(
        self, room: str, member: Member, listed: int
    ) -> tuple[int, list[dict[str, Any]]] | None:
        if self._skipped():
            return None
        try:
            count = await self._announce("join", room, member)
            sample = await self._quick.hrandfield(keys.members(room), listed + 1, withvalues=True)
        except RedisError as exc:
            self._lost("joining a room", exc)
            return None
        pairs = _pairs(sample)
        roster = [_unlabel(label).public() for key, label in pairs if key != member.key][:listed]
        self._counts[room] = count
        return count, roster

    async def roster(self, room: str, listed: int) -> tuple[int, list[dict[str, Any]]] | None:
        if self._skipped():
            return None
        try:
            count = int(await self._quick.hlen(keys.members(room)))
            sample = await self._quick.hrandfield(keys.members(room), listed, withvalues=True)
        except RedisError as exc:
            self._lost("reading a room's members", exc)
            return None
        self._counts[room] = count
        return count, [_unlabel(label).public() for _, label in _pairs(sample)][:listed]

    async def leave(self, room: str, member: Member) -> bool:
        if self._skipped():
            return False
        try:
            count = await self._announce("leave", room, member)
        except RedisError as exc:
            self._lost("leaving a room", exc)
            return False
        if count >= 0 and room in self._rooms:
            self._counts[room] = count
        else:
            self._counts.pop(room, None)
        return True

    def count(self, room: str) -> int | None:
        return self._counts.get(room)

    def merge_stats(self, local: dict[str, Any]) -> dict[str, Any]:
        return merge(local, self._others)

    def handle(self, fields: Mapping[str, str]) -> None:
        """An entry of the presence stream, as the broker's reader read it."""
        room = fields["room"]
        if room not in self._rooms:
            return  # nobody here listens to that room
        count = int(fields["count"])
        self._counts[room] = count
        if fields.get("resync") and fields["origin"].startswith(self.instance + ":"):
            return  # our own resync: our members were told of this change when it happened
        who = _unlabel(fields["name"])
        # Handed over at once (delivery never awaits), so presence needs no queue of its own.
        self._on_event(
            PresenceEvent(
                room=room,
                event="join" if fields["event"] == "join" else "leave",
                name=who.name,
                sender_id=who.id,
                origin=fields["origin"],
                count=count,
            )
        )

    async def _announce(self, event: str, room: str, member: Member) -> int:
        script_keys = [keys.members(room), keys.instance_rooms(self.instance), keys.PRESENCE]
        args: list[str | int] = [event, member.key, _label(member.sender), room, PRESENCE_MAXLEN]
        return int(await self._script(keys=script_keys, args=args, client=self._quick))

    def _skipped(self) -> bool:
        """Whether to leave Redis out of a join, leave or roster: stopping, or Redis known down.
        Either way the next good heartbeat writes our members back (RESYNC), and peers hear
        of each difference as a join or leave then."""
        if self._health.down:
            self._resync = True
        return self._stopped or self._health.down

    def _lost(self, doing: str, exc: RedisError) -> None:
        self._health.failed(doing, exc)
        self._resync = True
        self._counts.clear()

    async def _beat_forever(self) -> None:
        while not self._stopped:
            try:
                await self._beat()
            except RedisError as exc:
                self._lost("sending the heartbeat", exc)
                self._others = []  # stale peers' figures would mislead more than none
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_beat.wait(), HEARTBEAT_SECONDS)

    async def _beat(self) -> None:
        snapshot = {
            **self._local_stats(),
            "published_total": self._counter.total,
            "published_per_second": self._counter.per_second(),
        }
        heartbeat = keys.heartbeat(self.instance)
        previous = await self._client.set(heartbeat, orjson.dumps(snapshot), px=TTL_MS, get=True)
        if self._health.ok() or previous is None:
            self._resync = True  # our key had expired: peers may have reaped our members
        await self._client.sadd(keys.INSTANCES, self.instance)
        if self._resync:
            await self._resync_members()
            self._resync = False
        peers = [str(i) for i in await self._client.smembers(keys.INSTANCES)]
        peers = [peer for peer in peers if peer != self.instance]
        beats = await self._client.mget([keys.heartbeat(i) for i in peers]) if peers else []
        others = []
        alive = set()
        for peer, beat in zip(peers, beats, strict=True):
            if beat is None:
                await self._reap_instance(peer)
            else:
                alive.add(peer)
                others.append(orjson.loads(beat))
        self._others = others
        if self._alive - alive:
            # A peer stopped (reaped here or by another instance). What it committed but never
            # appended to the streams (killed before its appender ran) is only in the database.
            self.on_peer_lost()
        self._alive = alive

    async def _resync_members(self) -> None:
        args: list[str | int] = [self.instance, keys.PREFIX, PRESENCE_MAXLEN]
        for room, members in list(self._rooms.items()):
            for member in members:
                if not member.observer:  # an observer is in no room's presence
                    args += [room, member.key, _label(member.sender)]
        script_keys = [keys.instance_rooms(self.instance), keys.PRESENCE]
        await self._resync_script(keys=script_keys, args=args)

    async def _reap_instance(self, instance: str, force: bool = False) -> None:
        script_keys = [
            keys.INSTANCES,
            keys.instance_rooms(instance),
            keys.PRESENCE,
            keys.heartbeat(instance),
            keys.wake(instance),
        ]
        args: list[str | int] = [instance, keys.PREFIX, PRESENCE_MAXLEN, "force" if force else ""]
        removed = int(await self._reap(keys=script_keys, args=args))
        if removed and not force:
            log.warning("instance %s stopped beating: removed its %d members", instance, removed)


def _label(sender: Sender) -> str:
    """How a member is kept in Redis (and named in presence entries): id and name together."""
    return f"{sender.id}\n{sender.name}"


def _unlabel(label: str) -> Sender:
    sender_id, _, name = label.partition("\n")
    return Sender(sender_id, name)


def _pairs(reply: Any) -> list[tuple[str, str]]:
    """HRANDFIELD WITHVALUES answers a flat list (RESP2) or a list of pairs (RESP3)."""
    if not reply:
        return []
    if isinstance(reply[0], list | tuple):
        return [(str(k), str(v)) for k, v in reply]
    return [(str(reply[i]), str(reply[i + 1])) for i in range(0, len(reply), 2)]
