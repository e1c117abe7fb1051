"""What one client's inbound frames do: limits first, then text relay or the JSON protocol."""

from __future__ import annotations

import logging
from typing import Any

from backend.closecodes import CloseCode
from backend.hub.connection import Connection, Mode
from backend.hub.hub import Hub
from backend.protocol import (
    ProtocolError,
    Publish,
    Subscribe,
    Unsubscribe,
    parse_client_frame,
)

log = logging.getLogger("desafio.session")


class Close(Exception):
    """The session must end with this close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    """Handles the frames of one connection, in order. Raises Close to end it."""

    def __init__(self, hub: Hub, conn: Connection, home_room: str) -> None:
        self.hub = hub
        self.conn = conn
        self.home_room = home_room
        self.max_bytes = hub.settings.max_message_bytes

    async def on_text(self, text: str) -> None:
        # len() counts code points; a UTF-8 code point is at most 4 bytes, so only encode when
        # the text could be over the limit.
        if len(text) * 4 > self.max_bytes and len(text.encode()) > self.max_bytes:
            raise Close(CloseCode.MESSAGE_TOO_BIG, f"message over {self.max_bytes} bytes")
        if not self._within_rate():
            return
        if self.conn.mode is Mode.TEXT:
            await self.hub.publish(self.conn, self.home_room, text)
            return
        try:
            frame = parse_client_frame(text)
            await self._dispatch(frame)
        except ProtocolError as exc:
            self.error(exc.code, exc.detail, exc.ref)

    def on_binary(self) -> None:
        raise Close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported; send text")

    def _within_rate(self) -> bool:
        conn = self.conn
        if conn.bucket.allow():
            conn.strikes = 0
            return True
        conn.strikes += 1
        if conn.strikes >= self.hub.settings.rate_limit_strikes:
            raise Close(CloseCode.POLICY_VIOLATION, "rate limit exceeded persistently")
        self.error("rate_limited", "too many messages; slow down (message dropped)")
        return False

    async def _dispatch(self, frame: Subscribe | Unsubscribe | Publish | Any) -> None:
        conn, hub = self.conn, self.hub
        if isinstance(frame, Publish):
            envelope = await hub.publish(conn, frame.room, frame.text, frame.data)
            hub.send(conn, {"type": "ack", "ref": frame.ref, "id": envelope.id, "room": frame.room})
        elif isinstance(frame, Subscribe):
            await self.subscribe(frame.room)
        elif isinstance(frame, Unsubscribe):
            if frame.room not in conn.rooms:
                raise ProtocolError("not_subscribed", f"not subscribed to {frame.room!r}")
            await hub.leave(conn, frame.room)
            hub.send(conn, {"type": "unsubscribed", "room": frame.room})
        else:
            hub.send(conn, {"type": "pong"})

    async def subscribe(self, room: str) -> None:
        conn, hub = self.conn, self.hub
        if room in conn.rooms:
            names = [m.name for m in hub.rooms.get(room, ()) if m is not conn]
        else:
            limit = hub.settings.max_rooms_per_connection
            if len(conn.rooms) >= limit:
                raise ProtocolError("too_many_rooms", f"at most {limit} rooms per connection")
            names = await hub.join(conn, room)
        hub.send(
            conn,
            {"type": "subscribed", "room": room, "count": hub.count(room), "members": names},
        )

    def error(self, code: str, detail: str, ref: str | None = None) -> None:
        self.hub.metrics.errors.labels(code).inc()
        obj: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if ref is not None:
            obj["ref"] = ref
        self.hub.send(self.conn, obj)
