"""The WebSocket side of auth: the handshake's token, the first-frame `auth`, and per-connection
access (room checks, expiry, refresh)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocket

from backend.auth.accounts import AccountsUnavailable
from backend.auth.names import InvalidName, display_name
from backend.auth.rooms import Identity
from backend.auth.service import AuthService
from backend.auth.tokens import InvalidToken
from backend.closecodes import CloseCode
from backend.hub.connection import Connection
from backend.protocol import Auth, ProtocolError, parse_client_frame


def handshake_token(websocket: WebSocket) -> str | None:
    """`?token=` (browsers cannot set headers) or `Authorization: Bearer ...`.

    Starlette decodes the query, so `?%74oken=` is `token` here too (and redacted in the logs:
    backend/logs.py parses the query the same way)."""
    token = websocket.query_params.get("token")
    if token:
        return token
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class Admission:
    """The handshake's verdict: an identity, a refusal (status, code, detail), or "ask first"."""

    identity: Identity | None = None
    refusal: tuple[int, str, str] | None = None
    pending: bool = False


async def admit(auth: AuthService, websocket: WebSocket, fmt: str, room: str | None) -> Admission:
    """Decide before accepting; `room` is the room the handshake would join, if any."""
    token = handshake_token(websocket)
    if token is None:
        if not auth.required:
            if room is not None and auth.policy.is_private(room):
                return Admission(refusal=(403, "forbidden", f"room {room!r} is private"))
            return Admission()
        if fmt == "json":
            return Admission(pending=True)  # may still authenticate with its first frame
        return Admission(refusal=(403, "unauthorized", "a valid token is required"))
    try:
        identity = await auth.verify(token)
    except InvalidToken as exc:
        # Bad tokens are refused even when auth is optional: the client meant to be someone.
        return Admission(refusal=(403, "unauthorized", exc.detail))
    except AccountsUnavailable as exc:
        return Admission(refusal=(503, "unavailable", str(exc)))
    if room is not None and not auth.may_enter(identity, room):
        return Admission(refusal=(403, "forbidden", f"not allowed in room {room!r}"))
    return Admission(identity=identity)


async def first_frame_identity(websocket: WebSocket, auth: AuthService) -> Identity | None:
    """Wait for `{"type":"auth","token":...}` as the first frame; on anything else close 1008.

    Until it arrives the connection is not in the hub: it can neither send nor receive anything.
    """
    reason = 'authentication required: send {"type":"auth","token":...} first'
    try:
        message = await asyncio.wait_for(websocket.receive(), auth.first_frame_timeout)
    except TimeoutError:
        message = None
        reason = "authentication timed out"
    if message is not None and message["type"] == "websocket.disconnect":
        return None
    text = message.get("text") if message is not None else None
    if text is not None:
        try:
            frame = parse_client_frame(text)
        except ProtocolError:
            frame = None
        if isinstance(frame, Auth):
            try:
                return await auth.verify(frame.token)
            except InvalidToken as exc:
                reason = exc.detail
            except AccountsUnavailable:
                reason = "the account store is unavailable; retry later"
    await websocket.close(CloseCode.POLICY_VIOLATION, reason)
    return None


class ConnectionAccess:
    """What one connection may do, for as long as its token lasts."""

    __slots__ = ("_timer", "auth", "conn", "identity")  # one per connection: kept small

    def __init__(self, auth: AuthService, conn: Connection, identity: Identity) -> None:
        self.auth = auth
        self.conn = conn
        self.identity = identity
        self._timer: asyncio.TimerHandle | None = None
        auth.identities[conn.key] = identity
        auth.closers[conn.key] = conn.close  # revoked accounts' sockets (AuthService.revoked)
        self._schedule_expiry()

    def _schedule_expiry(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.identity.expires is not None:
            delay = max(0.0, self.identity.expires - time.time())
            self._timer = asyncio.get_running_loop().call_later(
                delay, self.conn.close, CloseCode.TOKEN_EXPIRED, "token expired"
            )

    def expired(self) -> bool:
        return self.identity.expires is not None and time.time() >= self.identity.expires

    def allows(self, room: str) -> bool:
        return self.auth.may_enter(self.identity, room)

    def check(self, room: str, ref: str | None = None) -> None:
        """Raise `forbidden` unless this connection may subscribe or publish to `room`."""
        if not self.allows(room):
            raise ProtocolError("forbidden", f"not allowed in room {room!r}", ref)

    def refresh(self, token: str) -> dict[str, Any]:
        """Replace the token (same user) before it expires; returns the `authenticated` answer."""
        if not self.identity.authenticated:
            raise ProtocolError("invalid_token", "anonymous connection: reconnect with a token")
        try:
            identity = self.auth.tokens.verify(token)
        except InvalidToken as exc:
            raise ProtocolError("invalid_token", exc.detail) from None
        if identity.name != self.identity.name or identity.user_id != self.identity.user_id:
            raise ProtocolError("invalid_token", "the token is for another user")
        # A token version other than the connection's is a revoked token or one issued after a
        # revocation that closed this connection (the sweeper): either way not this session's.
        # Same version: the account is checked by the sweeper like the connection's own token.
        if identity.token_version != self.identity.token_version:
            raise ProtocolError("invalid_token", "token revoked")
        self.identity = identity
        self.auth.identities[self.conn.key] = identity
        self._schedule_expiry()
        expires = identity.expires or time.time()
        return {
            "type": "authenticated",
            "name": identity.name,
            "expires_in": max(0, int(expires - time.time())),
        }

    def end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.auth.identities.pop(self.conn.key, None)
        self.auth.closers.pop(self.conn.key, None)


async def guest_name(
    auth: AuthService, raw: str | None
) -> tuple[str | None, tuple[int, str, str] | None]:
    """A guest's `name=`: NFC-normalised and checked (backend/auth/names.py), and refused when
    it is, or looks like, a registered user's name. (name, None) or (None, refusal)."""
    if raw is None:
        return None, None
    try:
        name = display_name(raw)
    except InvalidName as exc:
        return None, (400, "invalid_name", str(exc))
    try:
        reserved = await auth.name_reserved(name)
    except (AccountsUnavailable, SQLAlchemyError, OSError):
        return None, (503, "unavailable", "the account store is unavailable; retry later")
    if reserved:
        detail = "this name is, or looks like, a registered user's: log in, or choose another"
        return None, (400, "name_reserved", detail)
    return name, None


def origin_refusal(allowed: list[str], origin: str | None) -> tuple[int, str, str] | None:
    """ALLOWED_ORIGINS: a browser page from another origin may not open /ws with its user's
    cookies or stored token (cross-site WebSocket hijacking). Browsers always send `Origin` on
    a WebSocket handshake; clients that are not browsers send none and are not concerned."""
    if not allowed or origin is None or origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return None
    return (403, "forbidden_origin", "this origin may not connect (ALLOWED_ORIGINS)")
