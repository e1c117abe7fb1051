"""The rooms the feed follows on the backend, and where each one resumes.

Bookkeeping only: it says which frames to send and remembers the answers; the feed client
(feed.py) owns the socket. Frames come out one at a time so that the client sends each before
the next is planned: if a send fails, what is remembered matches what went out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dashboard.rooms import plan_rooms
from dashboard.stats import RoomFigures

Frame = dict[str, Any]


class Following:
    """Which rooms are followed (or asked for), and the last message id seen in each."""

    def __init__(self, default_room: str, max_rooms: int, history_on_join: int) -> None:
        self.default_room = default_room
        self.max_rooms = max_rooms
        self.history_on_join = history_on_join
        # How many of a room's counted members are the feed itself: 0 while it observes.
        self.own = 1
        self._followed: set[str] = set()
        self._pending: set[str] = set()
        # Per room followed at least once, the last message id seen (0: none yet): a later
        # subscribe resumes after it, and a message at or below it is one already shown.
        self.last_ids: dict[str, int] = {}
        # The room log's epoch as the backend last named it: sent back with `since`, so that a
        # reset log (new epoch) answers `recovered: false` instead of replaying the wrong ids.
        self.epochs: dict[str, str] = {}

    @property
    def rooms(self) -> tuple[str, ...]:
        """The rooms the backend confirmed, sorted."""
        return tuple(sorted(self._followed))

    def rejoin(self) -> Iterator[Frame]:
        """What a new connection subscribes to: the rooms followed so far, and the default room."""
        rooms = self._followed | {self.default_room}
        self._followed, self._pending = set(), set()
        return (self.subscribe(room) for room in sorted(rooms))

    def subscribe(self, room: str) -> Frame:
        """The subscribe frame for `room`, which counts as asked for from now on."""
        self._pending.add(room)
        frame: Frame = {"type": "subscribe", "room": room}
        if room in self.last_ids:
            # Everything after the last message seen, then live: no gap, no duplicate.
            frame["since"] = self.last_ids[room]
            if room in self.epochs:
                frame["epoch"] = self.epochs[room]
        elif self.history_on_join > 0:
            frame["history"] = self.history_on_join
        return frame

    def replan(
        self, listed: Mapping[str, RoomFigures], now: float | None = None
    ) -> Iterator[Frame]:
        """Frames that join the busiest rooms /stats lists and leave those the feed is alone in."""
        following = self._followed | self._pending
        join, leave = plan_rooms(
            listed, following, self.default_room, self.max_rooms, own=self.own, now=now
        )
        for room in join:
            yield self.subscribe(room)
        for room in leave:
            self._followed.discard(room)
            yield {"type": "unsubscribe", "room": room}

    def subscribed(self, room: str, epoch: object = None) -> None:
        """The backend confirmed `room` (naming its log's epoch, if it did)."""
        if isinstance(epoch, str):
            self.epochs[room] = epoch
        self._pending.discard(room)
        self._followed.add(room)
        self.last_ids.setdefault(room, 0)

    def advance(self, room: str, msg_id: int) -> bool:
        """Note message `msg_id` of `room`; False when it is one already shown."""
        if msg_id <= self.last_ids.get(room, 0):
            return False  # ids grow within a room: this one is already in the feed
        self.last_ids[room] = msg_id
        return True
