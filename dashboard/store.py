"""What the feed thread shares with the page: bounded, guarded by one lock, copied out whole."""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from enum import StrEnum

from dashboard.metrics import Figures
from dashboard.stats import RoomRates, SeriesPoint, StatsSample, point_of
from dashboard.timeline import Point, Timeline

# Busiest rooms kept per chart point: the per-room charts' memory bound.
ROOMS_PER_POINT = 8
NOTICES = 20
# Members remembered per room (a roster lists at most 200; joins may add more).
MEMBERS_PER_ROOM = 500


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DOWN = "down"
    # The backend wants credentials the feed lacks, or refused the ones it has: not an outage.
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True, slots=True)
class Link:
    """The feed connection's state; `retry_at` (monotonic) is when the next attempt is due."""

    state: LinkState = LinkState.CONNECTING
    detail: str = ""
    failures: int = 0
    retry_at: float | None = None


@dataclass(frozen=True, slots=True)
class FeedMessage:
    id: int
    room: str
    sender: str
    text: str
    ts: str
    # Not a registered user (the server says so): shown, since a guest may pick any free name.
    guest: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent copy of everything the page renders, taken under the lock."""

    link: Link
    messages: tuple[FeedMessage, ...]  # newest first
    series: tuple[SeriesPoint, ...]  # oldest first
    stats: StatsSample | None
    room_rates: dict[str, float] = field(default_factory=dict)
    rooms: tuple[str, ...] = ()  # rooms the feed is subscribed to
    received: int = 0
    figures: Figures | None = None  # from /metrics, the last interval
    # (wall clock, room, text): what the feed could not do, newest last (recovery failures).
    notices: tuple[tuple[float, str, str], ...] = ()
    observing: bool = False  # the feed connection is an observer nobody sees
    # Per followed room: its member count and who (sender id -> (name, guest)), as the
    # backend's `subscribed` roster and presence events tell.
    members: dict[str, tuple[int, dict[str, tuple[str, bool]]]] = field(default_factory=dict)


def _timestamp(message: FeedMessage) -> str:
    # ISO-8601 UTC with milliseconds and a Z: sorts as text in time order.
    return message.ts


class LiveStore:
    """Bounded buffers written by the feed thread and read by page runs."""

    def __init__(self, feed_size: int, series_size: int, text_limit: int) -> None:
        self._lock = threading.Lock()
        self._feed_size = feed_size
        # Oldest first by timestamp: history of a room followed later is older than what is
        # already shown, and belongs below it in a newest-first feed, not on top.
        self._messages: list[FeedMessage] = []
        self._series: deque[SeriesPoint] = deque(maxlen=series_size)
        self._rates = RoomRates()
        self._text_limit = text_limit
        self._link = Link()
        self._stats: StatsSample | None = None
        self._room_rates: dict[str, float] = {}
        self._rooms: tuple[str, ...] = ()
        self._received = 0
        self._figures: Figures | None = None
        self._notices: deque[tuple[float, str, str]] = deque(maxlen=NOTICES)
        self._observing = False
        self._members: dict[str, tuple[int, dict[str, tuple[str, bool]]]] = {}
        self.timeline = Timeline()

    def add_message(self, message: FeedMessage) -> None:
        if len(message.text) > self._text_limit:
            message = FeedMessage(
                message.id,
                message.room,
                message.sender,
                message.text[: self._text_limit] + "…",
                message.ts,
                message.guest,
            )
        with self._lock:
            # Equal timestamps keep arrival order, which within a room is id order.
            bisect.insort_right(self._messages, message, key=_timestamp)
            if len(self._messages) > self._feed_size:
                del self._messages[0]
            self._received += 1

    def amend(self, room: str, target: int, text: str) -> None:
        """Message `target` of `room` was edited (its new text) or deleted."""
        with self._lock:
            for n, message in enumerate(self._messages):
                if message.id == target and message.room == room:
                    self._messages[n] = replace(message, text=text[: self._text_limit])
                    return

    def add_sample(self, sample: StatsSample) -> None:
        rates = self._rates.add(sample)
        with self._lock:
            self._stats = sample
            self._room_rates = rates
            self._series.append(point_of(sample))

    def add_point(self, sample: StatsSample, figures: Figures | None) -> None:
        """A chart point: /stats' figures, /metrics' (when read) and the busiest rooms."""
        with self._lock:
            rates = dict(self._room_rates)
            self._figures = figures
        values: dict[str, float | None] = {
            "messages/s": sample.messages_per_second,
            "connections": float(sample.connections),
            "text": float(sample.text_connections),
            "json": float(sample.json_connections),
            **(figures.values if figures else {}),
        }
        busiest = sorted(
            sample.rooms.items(), key=lambda kv: (-rates.get(kv[0], 0.0), -kv[1].connections)
        )[:ROOMS_PER_POINT]
        rooms = {room: (rates.get(room, 0.0), f.connections) for room, f in busiest}
        point = Point(sample.at, values, rooms, sample.instance)
        with self._lock:
            self.timeline.add(point)

    def points(self, label: str, now: float) -> list[Point]:
        with self._lock:
            return self.timeline.points(label, now)

    def notice(self, at: float, room: str, text: str) -> None:
        with self._lock:
            self._notices.append((at, room, text))

    def set_roster(self, room: str, count: int, roster: list[dict[str, object]]) -> None:
        """A `subscribed` answer: the room's count and the members it lists."""
        who = {
            str(m.get("id")): (str(m.get("name")), bool(m.get("guest")))
            for m in roster[:MEMBERS_PER_ROOM]
        }
        with self._lock:
            self._members[room] = (count, who)

    def presence(self, room: str, joined: bool, member: tuple[str, str, bool], count: int) -> None:
        """A join or leave (sender id, name, guest) in a followed room, with the new count."""
        with self._lock:
            _, who = self._members.get(room, (0, {}))
            sender_id, name, guest = member
            if joined and len(who) < MEMBERS_PER_ROOM:
                who[sender_id] = (name, guest)
            elif not joined:
                who.pop(sender_id, None)
            self._members[room] = (count, who)

    def set_observing(self, observing: bool) -> None:
        with self._lock:
            self._observing = observing

    def set_link(self, link: Link) -> None:
        with self._lock:
            self._link = link

    def set_rooms(self, rooms: tuple[str, ...]) -> None:
        with self._lock:
            self._rooms = rooms
            for room in set(self._members) - set(rooms):
                del self._members[room]  # left: what it knew of the room is stale now

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                link=self._link,
                messages=tuple(reversed(self._messages)),
                series=tuple(self._series),
                stats=self._stats,
                room_rates=dict(self._room_rates),
                rooms=self._rooms,
                received=self._received,
                figures=self._figures,
                notices=tuple(self._notices),
                observing=self._observing,
                members={room: (n, dict(who)) for room, (n, who) in self._members.items()},
            )
