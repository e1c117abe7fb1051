"""What the feed does with each server object: messages, amendments, rosters, presence,
recovery failures. Bookkeeping only; the feed client (feed.py) owns the socket."""

from __future__ import annotations

import logging
import time
from typing import Any

from dashboard.following import Following
from dashboard.history import HistorySource
from dashboard.store import FeedMessage, LiveStore

log = logging.getLogger("desafio.dashboard.feed")

MAX_HISTORY = 500  # the most messages the history endpoint returns at once
DELETED = "(deleted)"


class FrameHandler:
    def __init__(
        self, store: LiveStore, following: Following, history: HistorySource, feed_size: int
    ) -> None:
        self.store = store
        self.following = following
        self.history = history
        self.feed_size = feed_size

    def handle(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "message":
            self.record(obj)
        elif kind in ("edited", "deleted"):
            self.amend(obj)
        elif kind == "subscribed":
            self.subscribed(obj)
        elif kind == "presence":
            member = (str(obj.get("id")), str(obj.get("name")), bool(obj.get("guest")))
            joined = obj.get("event") == "join"
            self.store.presence(str(obj["room"]), joined, member, int(obj.get("count") or 0))
        elif kind == "error":
            # A refused subscribe (too_many_rooms, say) stays pending until the next connection,
            # so polls do not repeat it every second.
            log.warning("backend refused a feed frame: %s", obj.get("code"))

    def subscribed(self, obj: dict[str, Any]) -> None:
        room = str(obj["room"])
        self.following.subscribed(room, obj.get("epoch"))
        self.store.set_rooms(self.following.rooms)
        self.store.set_roster(room, int(obj.get("count") or 0), list(obj.get("roster") or []))
        if obj.get("recovered") is False:
            reason = str(obj.get("reason") or "unknown")
            text = f"missed messages could not be replayed ({reason}); reloaded the latest"
            self.store.notice(time.time(), room, text)
            self.reload(room)

    def record(self, obj: dict[str, Any]) -> None:
        room, msg_id = str(obj["room"]), int(obj["id"])
        if not self.following.advance(room, msg_id):
            return
        text = DELETED if obj.get("deleted") else str(obj["text"])
        sender, guest = str(obj["sender"]), bool(obj.get("guest"))
        self.store.add_message(FeedMessage(msg_id, room, sender, text, str(obj["ts"]), guest))

    def amend(self, obj: dict[str, Any]) -> None:
        """An edit or delete is an entry of the room's log: it moves the resume point too."""
        room, entry = str(obj["room"]), int(obj["id"])
        if not self.following.advance(room, entry):
            return
        text = str(obj.get("text", "")) if obj["type"] == "edited" else DELETED
        self.store.amend(room, int(obj.get("target") or 0), text)

    def reload(self, room: str) -> None:
        """The backend cannot replay what was missed: show its latest stored messages instead."""
        latest = self.history.latest(room, min(self.feed_size, MAX_HISTORY))
        if latest is None:
            return
        seen = self.following.last_ids[room]
        if not latest or latest[0]["id"] > seen + 1:
            log.warning("room %s: messages after id %d could not be recovered", room, seen)
        if (latest[-1]["id"] if latest else 0) < seen:
            # Stored ids behind ours: the history was replaced (or emptied), and ids start again.
            self.following.last_ids[room] = 0
        for obj in latest:
            self.record({**obj, "room": room})
