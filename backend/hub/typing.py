"""Typing indicators: ephemeral notices, relayed to a room's other members and never stored.

A client sends `typing` while its user types; the others show "X is typing…" and forget it on
their own a few seconds later (the client's timer), so a notice needs no "stopped" counterpart.
Each connection gets at most one notice relayed every `EVERY` seconds, whatever the room (a
person types in one place at a time): a client that sends one per keystroke, or one to each of
its 32 rooms, costs the rooms' members nothing more (each notice goes to every member).

A relayed notice goes through the broker as an envelope of kind "typing" (id 0): every
instance's pump hands it here, outside the log and the sequencer, and each delivers it to its
own members but the typist.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson

from backend.budgets import RequestRates
from backend.hub.connection import Connection, Mode
from backend.hub.outbound import Outgoing
from backend.identity import GUEST_PREFIX
from backend.messages import Envelope
from backend.protocol import utc_timestamp

# At most one relayed notice per connection this often (clients forget after ~5 s).
EVERY = 2.0
# Notices per second relayed for one identity, whatever its number of connections.
IDENTITY_RATE, IDENTITY_BURST = 5.0, 10
# Entries kept before stale ones are swept (one per connection that typed recently).
SWEEP_AT = 10_000


class TypingRelay:
    def __init__(
        self,
        rooms: dict[str, set[Connection]],
        publish: Callable[[Envelope], None],
    ) -> None:
        self.rooms = rooms
        self.publish = publish
        self._last: dict[str, float] = {}
        # And per identity (a user, or a guest's address), however many connections it has:
        # 800 of them each typing at their own pace cost a room's members p99 ~550 ms.
        self._identities = RequestRates(IDENTITY_RATE, IDENTITY_BURST)

    def typing(self, conn: Connection, room: str) -> bool:
        """Relay that `conn` types in `room` (which it must be in); False when coalesced."""
        now = time.monotonic()
        key = conn.key
        if now - self._last.get(key, -EVERY) < EVERY:
            return False
        if not self._identities.allow(conn.quota_key):
            return False  # many connections of one identity: each within its own pace
        if len(self._last) >= SWEEP_AT:
            self._last = {k: t for k, t in self._last.items() if now - t < EVERY}
        self._last[key] = now
        sender = conn.sender
        notice = Envelope(
            room, 0, utc_timestamp(), sender.name, sender.id, "", None, conn.key, kind="typing"
        )
        self.publish(notice)
        return True

    def deliver(self, notice: Envelope) -> None:
        """A notice from any instance: to this instance's JSON members of the room but the
        typist."""
        members = self.rooms.get(notice.room)
        if not members:
            return
        item = Outgoing(
            orjson.dumps(
                {
                    "type": "typing",
                    "room": notice.room,
                    "name": notice.sender,
                    "id": notice.sender_id,
                    "guest": notice.sender_id.startswith(GUEST_PREFIX),
                }
            )
        )
        for member in members:
            if member.key != notice.origin and member.mode is Mode.JSON:
                member.deliver(item)
