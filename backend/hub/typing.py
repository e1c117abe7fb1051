"""Typing indicators: ephemeral notices, relayed to a room's other members and never stored.

A client sends `typing` while its user types; the others show "X is typing…" and forget it on
their own a few seconds later (the client's timer), so a notice needs no "stopped" counterpart.
Each connection gets at most one notice per room relayed every `EVERY` seconds: a client that
sends one per keystroke costs the room nothing more. Notices reach the members on this instance
only (docs/decisions.md: ephemeral signals do not travel through the message log).
"""

from __future__ import annotations

import time

import orjson

from backend.hub.connection import Connection, Mode
from backend.hub.outbound import Outgoing

# At most one relayed notice per connection and room this often (clients forget after ~5 s).
EVERY = 2.0
# Entries kept before stale ones are swept (one per connection and room that typed recently).
SWEEP_AT = 10_000


class TypingRelay:
    def __init__(self, rooms: dict[str, set[Connection]]) -> None:
        self.rooms = rooms
        self._last: dict[tuple[str, str], float] = {}

    def typing(self, conn: Connection, room: str) -> bool:
        """Relay that `conn` types in `room` (which it must be in); False when coalesced."""
        now = time.monotonic()
        key = (conn.key, room)
        if now - self._last.get(key, -EVERY) < EVERY:
            return False
        if len(self._last) >= SWEEP_AT:
            self._last = {k: t for k, t in self._last.items() if now - t < EVERY}
        self._last[key] = now
        notice = {"type": "typing", "room": room, **conn.sender.public()}
        item = Outgoing(orjson.dumps(notice))
        for member in self.rooms.get(room, ()):
            if member is not conn and member.mode is Mode.JSON:
                member.deliver(item)
        return True
