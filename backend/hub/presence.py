"""Presence events: who joined or left a room, told to its JSON-mode members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from backend.broker.base import PresenceEvent
from backend.hub.connection import Mode
from backend.hub.outbound import Outgoing
from backend.identity import GUEST_PREFIX
from backend.protocol import encode

if TYPE_CHECKING:
    from backend.hub.connection import Connection


class PresenceFanout:
    """Delivers joins and leaves, local or (with a cluster) from any instance.

    It counts each room's JSON-mode members, the only ones told: a room of text clients (the
    original, common case) then costs nothing per join and leave, instead of a walk over every
    member, which made connecting thousands of clients quadratic.
    """

    def __init__(self, rooms: dict[str, set[Connection]]) -> None:
        self.rooms = rooms
        self._json_members: dict[str, int] = {}
        # Observers per room: they are in `rooms` (the fan-out reaches them) but count for no one.
        self._observers: dict[str, int] = {}

    def joined(self, conn: Connection, room: str) -> None:
        if conn.mode is Mode.JSON:
            self._json_members[room] = self._json_members.get(room, 0) + 1
        if conn.observer:
            self._observers[room] = self._observers.get(room, 0) + 1

    def left(self, conn: Connection, room: str) -> None:
        if conn.mode is Mode.JSON:
            _drop(self._json_members, room)
        if conn.observer:
            _drop(self._observers, room)

    def members(self, room: str) -> int:
        """The room's members here, observers not counted."""
        return len(self.rooms.get(room, ())) - self._observers.get(room, 0)

    def announce(self, room: str, event: Literal["join", "leave"], subject: Connection) -> None:
        """A local join or leave, with the local count."""
        if subject.observer:
            return  # nobody is told of an observer
        count = self.members(room)
        sender = subject.sender
        self.deliver(PresenceEvent(room, event, sender.name, sender.id, subject.key, count))

    def deliver(self, event: PresenceEvent) -> None:
        """Tell the room's JSON members but the subject (the cluster calls this for every event)."""
        if not self._json_members.get(event.room):
            return
        item: Outgoing | None = None
        for conn in self.rooms.get(event.room, ()):
            if conn.key == event.origin or conn.mode is not Mode.JSON:
                continue
            if item is None:
                obj = {
                    "type": "presence",
                    "room": event.room,
                    "event": event.event,
                    "name": event.name,
                    "id": event.sender_id,
                    "guest": event.sender_id.startswith(GUEST_PREFIX),
                    "count": event.count,
                }
                item = Outgoing(encode(obj).encode())
            conn.deliver(item)


def _drop(counts: dict[str, int], room: str) -> None:
    remaining = counts[room] - 1
    if remaining:
        counts[room] = remaining
    else:
        del counts[room]
