"""What one client's inbound frames do: limits first, then text relay or the JSON protocol."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable
from functools import partial
from typing import TYPE_CHECKING, Any

from backend.closecodes import CloseCode
from backend.config import Settings
from backend.hub import replay
from backend.hub.amend import amend
from backend.hub.connection import Connection, Mode
from backend.hub.hub import Hub, listed
from backend.hub.ratelimit import TokenBucket
from backend.messages import Envelope
from backend.protocol import (
    Auth,
    Delete,
    Edit,
    ProtocolError,
    Publish,
    Subscribe,
    Typing,
    Unsubscribe,
    parse_client_frame,
)
from backend.storage import StorageError

if TYPE_CHECKING:
    from backend.auth.websocket import ConnectionAccess

log = logging.getLogger("desafio.session")


def welcome(conn: Connection, settings: Settings) -> dict[str, Any]:
    """The first object of a JSON connection: who it is (decide "mine" from `you.id`, never
    from a name) and the limits it must keep to."""
    return {
        "type": "welcome",
        "name": conn.name,
        "rooms": [],
        "you": conn.sender.public(),
        "limits": {
            "message_bytes": settings.max_message_bytes,
            "rate_per_second": settings.rate_limit_per_second,
            "rate_burst": settings.rate_limit_burst,
            "rooms": settings.max_rooms_per_connection,
        },
    }


class Close(Exception):
    """The session must end with this close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    """Handles the frames of one connection, in order. Raises Close to end it."""

    __slots__ = ("access", "conn", "home_room", "hub", "max_bytes")  # one per connection

    def __init__(self, hub: Hub, conn: Connection, home_room: str) -> None:
        self.hub = hub
        self.conn = conn
        self.home_room = home_room
        self.max_bytes = hub.settings.max_message_bytes
        # Who this connection is and where it may go (backend/auth); set by the /ws route.
        self.access: ConnectionAccess | None = None

    async def on_text(self, text: str) -> None:
        """Handle one text frame (the ASGI path's receive loop)."""
        pending = self.feed(text)
        if pending is not None:
            await pending

    def feed(self, text: str) -> Awaitable[None] | None:
        """Handle one text frame as far as it can be without waiting; what must wait (the store,
        the cluster) is returned, to be awaited before the next frame. Raises Close."""
        # len() counts code points; a UTF-8 code point is at most 4 bytes, so only encode when
        # the text could be over the limit.
        if len(text) * 4 > self.max_bytes and len(text.encode()) > self.max_bytes:
            raise Close(CloseCode.MESSAGE_TOO_BIG, f"message over {self.max_bytes} bytes")
        if self.access is not None and self.access.expired():
            raise Close(CloseCode.TOKEN_EXPIRED, "token expired")
        if self.conn.mode is Mode.TEXT:
            if "\x00" in text:
                self.error("invalid_text", "text must not contain NUL (U+0000)")
            elif self._within_rate(None) and self._accepting(None):
                outcome = self.hub.publish(self.conn, self.home_room, text)
                # No ack in text mode, but a message that was not stored (so not relayed)
                # is said, not dropped in silence.
                outcome.add_done_callback(partial(self._acknowledge, None, quiet=True))
            return None
        try:
            # Parsed before the rate check, so that a refusal can name the frame's ref.
            frame = parse_client_frame(text)
            if self._within_rate(getattr(frame, "ref", None)):
                pending = self._dispatch(frame)
                return None if pending is None else self._answering(pending)
        except ProtocolError as exc:
            self.error(exc.code, exc.detail, exc.ref)
        return None

    async def _answering(self, pending: Awaitable[None]) -> None:
        try:
            await pending
        except ProtocolError as exc:
            self.error(exc.code, exc.detail, exc.ref)

    def fail(self, exc: BaseException) -> None:
        """End the connection for `exc`: a Close says how; anything else is a bug, which must
        not drop the client in silence (1011, and the log gets the trace)."""
        if isinstance(exc, Close):
            code, reason = exc.code, exc.reason
        else:
            log.error("connection %s failed", self.conn.id, exc_info=exc)
            code, reason = CloseCode.INTERNAL_ERROR, "internal error"
        self.hub.metrics.closes.labels(str(code)).inc()
        self.conn.close(code, reason)

    def on_binary(self) -> None:
        raise Close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported; send text")

    def _accepting(self, ref: str | None) -> bool:
        if self.hub.draining:
            self.error("unavailable", "server shutting down; retry on another instance", ref)
            return False
        return True

    def _within_rate(self, ref: str | None) -> bool:
        conn = self.conn
        if conn.bucket.allow():
            conn.strikes = 0
            return True
        conn.strikes += 1
        if conn.strikes >= self.hub.settings.rate_limit_strikes:
            raise Close(CloseCode.POLICY_VIOLATION, "rate limit exceeded persistently")
        self.error("rate_limited", "too many messages; slow down (message dropped)", ref)
        return False

    def _may_join_or_leave(self, ref: str | None) -> bool:
        """Within the connection's budget of joins and leaves (observers are never announced)."""
        conn = self.conn
        if conn.observer:
            return True
        if conn.joins is None:
            s = self.hub.settings
            conn.joins = TokenBucket(s.room_changes_per_second, s.room_changes_burst)
        if conn.joins.allow() and self.hub.room_changes.allow(conn.quota_key):
            return True
        self.error("rate_limited", "too many joins and leaves; slow down (frame dropped)", ref)
        return False

    def _dispatch(self, frame: Subscribe | Unsubscribe | Publish | Any) -> Awaitable[None] | None:
        conn, hub = self.conn, self.hub
        if isinstance(frame, Auth):
            return self._refresh(frame)
        if isinstance(frame, Publish | Subscribe | Edit | Delete) and self.access is not None:
            self.access.check(frame.room, getattr(frame, "ref", None))  # `forbidden` if not
        if isinstance(frame, Publish):
            if self._accepting(frame.ref):
                outcome = hub.publish(conn, frame.room, frame.text, frame.data, frame.ref)
                # The ack waits for the commit, not the next frame: reading goes on meanwhile.
                outcome.add_done_callback(partial(self._acknowledge, frame.ref))
        elif isinstance(frame, Subscribe):
            if frame.room in conn.rooms or self._may_join_or_leave(frame.ref):
                return self.subscribe(
                    frame.room, frame.since, frame.history, frame.epoch, frame.ref
                )
        elif isinstance(frame, Unsubscribe):
            if frame.room not in conn.rooms:
                detail = f"not subscribed to {frame.room!r}"
                raise ProtocolError("not_subscribed", detail, frame.ref)
            if self._may_join_or_leave(frame.ref):
                return self._unsubscribe(frame)
        elif isinstance(frame, Edit | Delete):
            if self._accepting(frame.ref):
                return self._amend(frame)
        elif isinstance(frame, Typing):
            if frame.room not in conn.rooms:
                raise ProtocolError("not_subscribed", f"not subscribed to {frame.room!r}")
            if not conn.observer:
                hub.typing.typing(conn, frame.room)
        else:
            hub.send(conn, {"type": "pong"})
        return None

    async def _unsubscribe(self, frame: Unsubscribe) -> None:
        await self.hub.leave(self.conn, frame.room)
        self.hub.send(self.conn, _with_ref({"type": "unsubscribed", "room": frame.room}, frame.ref))

    async def _amend(self, frame: Edit | Delete) -> None:
        admin = self.access is not None and self.access.identity.is_admin
        outcome = await amend(self.hub.store, self.hub.publisher, self.conn, frame, admin)
        outcome.add_done_callback(partial(self._acknowledge, frame.ref))

    async def _refresh(self, frame: Auth) -> None:
        """A new token for the same user; rooms its allow-list no longer covers are left."""
        if self.access is None:
            raise ProtocolError("invalid_token", "this connection cannot authenticate")
        answer = self.access.refresh(frame.token)
        for room in sorted(self.conn.rooms):
            if not self.access.allows(room):
                await self.hub.leave(self.conn, room)
                self.hub.send(self.conn, {"type": "unsubscribed", "room": room})
        self.hub.send(self.conn, answer)

    def _acknowledge(
        self, ref: str | None, outcome: asyncio.Future[Envelope], quiet: bool = False
    ) -> None:
        error = outcome.exception()
        if error is None:
            if not quiet:
                envelope = outcome.result()
                ack = {"type": "ack", "ref": ref, "id": envelope.id, "room": envelope.room}
                self.hub.send(self.conn, ack)
        elif isinstance(error, StorageError):
            self.error(error.code, error.detail, ref)
        else:
            log.error("publish failed: %r", error)
            self.error("internal_error", "the message could not be published; retry", ref)

    async def subscribe(
        self,
        room: str,
        since: int | None = None,
        history: int = 0,
        epoch: str | None = None,
        ref: str | None = None,
    ) -> None:
        """Join `room` (again), replaying `history` or everything after `since` first."""
        conn, hub = self.conn, self.hub
        if room not in conn.rooms:
            limit = hub.settings.max_rooms_per_connection
            if len(conn.rooms) >= limit:
                detail = f"at most {limit} rooms per connection"
                raise ProtocolError("too_many_rooms", detail, ref)
        catching_up = since is not None or history > 0
        # Already live here: the last id it was handed, for the refusal below.
        live_after = hub.sequencer.last(room) if room in conn.rooms else None
        if catching_up:
            replay.begin(conn, room)
        if room in conn.rooms:
            roster = listed(hub.rooms.get(room, ()), but=conn)
        else:
            roster = await hub.join(conn, room)
        plan = replay.Plan(None)
        if catching_up:
            s = hub.settings
            plan = await replay.plan(hub.store, room, since, epoch, history, s.max_replay)
        answer: dict[str, Any] = {
            "type": "subscribed",
            "room": room,
            "count": hub.count(room),
            "members": [entry["name"] for entry in roster],
            "roster": roster,
        }
        # Every subscribed names the log, so a client that joined an empty room can recover too.
        if epoch_now := plan.epoch or hub.store.epoch:
            answer["epoch"] = epoch_now
        if plan.recovered is not None:
            answer["recovered"] = plan.recovered
        if plan.recovered is False:
            answer["reason"] = plan.reason
        hub.send(conn, _with_ref(answer, ref))
        if catching_up:
            if plan.reason == "storage_unavailable" and since is None:
                self.error("storage_unavailable", f"history of {room!r} could not be loaded")
            if plan.start is None and not plan.history and live_after is not None:
                # A refused `since` on a live subscription: the fan-out skipped it while the
                # plan was read, so what came meanwhile is replayed. It stays live, gap-free.
                plan = dataclasses.replace(plan, start=live_after)
            if not await replay.run(hub.store, hub.sequencer, conn, room, plan):
                self.error("recovery_incomplete", f"replay of {room!r} was cut short; reload")

    def error(self, code: str, detail: str, ref: str | None = None) -> None:
        self.hub.metrics.errors.labels(code).inc()
        obj: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if ref is not None:
            obj["ref"] = ref
        self.hub.send(self.conn, obj)

    async def join_home(self, history: int) -> None:
        """Text mode: join the home room, after its last `history` messages as plain text."""
        hub, room = self.hub, self.home_room
        if history > 0:
            replay.begin(self.conn, room)
        await hub.join(self.conn, room)
        if history > 0:
            plan = await replay.plan(hub.store, room, None, None, history, history)
            await replay.run(hub.store, hub.sequencer, self.conn, room, plan)


def _with_ref(answer: dict[str, Any], ref: str | None) -> dict[str, Any]:
    """The answer to a frame names it by its `ref`, when it had one (match answers by ref)."""
    if ref is not None:
        answer["ref"] = ref
    return answer
