"""Traffic figures for /stats (what the dashboard reads): totals, rates, last activity per room."""

from __future__ import annotations

import time
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from backend.hub.connection import Mode, State
from backend.rate import Rate

if TYPE_CHECKING:
    from backend.hub.connection import Connection
    from backend.hub.presence import PresenceFanout


class Observed(Protocol):
    """What /stats reads of the hub (a protocol, so this module needs not import the hub)."""

    instance: str
    traffic: Traffic
    presence: PresenceFanout

    @property
    def connections(self) -> Mapping[str, Connection]: ...

    @property
    def rooms(self) -> Mapping[str, set[Connection]]: ...


@dataclass
class RoomTraffic:
    messages: int = 0
    last_message_at: str | None = None
    last_monotonic: float = 0.0


# Rooms published to from here though nobody is subscribed here (publishers only): /stats lists
# the most recent of them for this long, so that the dashboard sees and can follow them.
PUBLISHED_ONLY_SECONDS = 3600.0
PUBLISHED_ONLY_ROOMS = 256


class Traffic:
    """Messages fanned out here: the total and rate, and each room's count and last message."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.rate = Rate()
        self.rooms: dict[str, RoomTraffic] = {}
        # Insertion order is recency order: the oldest is evicted beyond PUBLISHED_ONLY_ROOMS.
        self.published: dict[str, RoomTraffic] = {}

    @property
    def messages(self) -> int:
        return self.rate.total

    def record(self, room: str, ts: str) -> None:
        self.rate.record()
        traffic = self.rooms.get(room)
        if traffic is None:
            traffic = self.rooms[room] = RoomTraffic()
        traffic.messages += 1
        traffic.last_message_at = ts

    def per_second(self) -> float:
        return self.rate.per_second()

    def record_published(self, room: str, ts: str) -> None:
        """A message published from here was committed (its room may have no member here)."""
        traffic = self.published.pop(room, None) or RoomTraffic()
        traffic.messages += 1
        traffic.last_message_at = ts
        traffic.last_monotonic = time.monotonic()
        self.published[room] = traffic
        if len(self.published) > PUBLISHED_ONLY_ROOMS:
            del self.published[next(iter(self.published))]

    def published_only(self, rooms: Container[str]) -> dict[str, RoomTraffic]:
        """Recently published rooms that are not among `rooms` (those with members here)."""
        since = time.monotonic() - PUBLISHED_ONLY_SECONDS
        return {
            room: traffic
            for room, traffic in self.published.items()
            if room not in rooms and traffic.last_monotonic >= since
        }

    def forget(self, room: str) -> None:
        self.rooms.pop(room, None)

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started


def snapshot(hub: Observed) -> dict[str, Any]:
    """What /stats answers: connections (total, by mode, per room), traffic, uptime."""
    by_mode = {mode.value: 0 for mode in Mode}
    for conn in hub.connections.values():
        if conn.state is State.OPEN and not conn.observer:  # observers count for no one
            by_mode[conn.mode.value] += 1
    rooms = {}
    for room in sorted(hub.rooms):
        traffic = hub.traffic.rooms.get(room)
        rooms[room] = {
            "connections": hub.presence.members(room),
            "messages": traffic.messages if traffic else 0,
            "last_message_at": traffic.last_message_at if traffic else None,
        }
    for room, quiet in hub.traffic.published_only(hub.rooms).items():
        rooms[room] = {
            "connections": 0,
            "messages": quiet.messages,
            "last_message_at": quiet.last_message_at,
        }
    return {
        "instance": hub.instance,
        "uptime_seconds": round(hub.traffic.uptime, 3),
        "connections": {"total": sum(by_mode.values()), **by_mode},
        "messages_total": hub.traffic.messages,
        "messages_per_second": hub.traffic.per_second(),
        "rooms": dict(sorted(rooms.items())),
    }
