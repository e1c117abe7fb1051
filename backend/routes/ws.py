"""`/ws`: the handshake (mode, room, name, capacity) and the receive loop of a connection."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from backend.auth.http import get_auth
from backend.auth.names import is_room
from backend.auth.rooms import anonymous
from backend.auth.websocket import (
    ConnectionAccess,
    admit,
    first_frame_identity,
    guest_name,
    origin_refusal,
)
from backend.budgets import Refusal
from backend.deps import get_app_settings, get_hub
from backend.hub.connection import Mode
from backend.hub.sinks import AsgiSink, RawSink, Sink
from backend.identity import guest, valid_session
from backend.native import Inbound, find_protocol
from backend.protocol import ROOM_PATTERN
from backend.session import Session, welcome

log = logging.getLogger("desafio.session")

JSON_SUBPROTOCOL = "desafio.v1.json"
MAX_HISTORY = 500
# `history=` as digits only: str.isdigit() also takes "²" and other digits int() refuses.
_HISTORY = re.compile(r"^[0-9]{1,3}$")


def _refuse(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "detail": detail}}, status_code=status)


async def endpoint(
    scope: Scope,
    receive: Receive,
    send: Send,
    crowded: Refusal | None = None,
    release: Callable[[], None] | None = None,
) -> bool:
    """The `/ws` ASGI app. backend.app.Desafio routes to it directly, past FastAPI: a WebSocket
    lives for hours, and FastAPI's per-request machinery (middleware frames, three
    AsyncExitStacks, the dependency solver's state) would be kept alive for all of them: 11 KiB
    per idle connection (34.6 KiB down to 23.1, measured), for nothing the socket uses.
    `crowded`: why backend.app.Desafio, which counts sessions, would not count this one.
    True when the session was handed to the native protocol, which calls `release` at its end;
    otherwise it is over when this returns."""
    return await serve(WebSocket(scope, receive=receive, send=send), crowded, release)


async def serve(
    websocket: WebSocket,
    crowded: Refusal | None = None,
    release: Callable[[], None] | None = None,
) -> bool:
    hub, settings, auth = get_hub(websocket), get_app_settings(websocket), get_auth(websocket)
    params = websocket.query_params
    subprotocol = JSON_SUBPROTOCOL if JSON_SUBPROTOCOL in websocket.scope["subprotocols"] else None
    fmt = params.get("format", "json" if subprotocol else "text")
    room = params.get("room")
    name = params.get("name")
    history = params.get("history", "0")
    # A guest's client-session secret: the same one keeps the same guest id across reconnects.
    guest_session = params.get("session")
    # An observer (the dashboard) receives without being seen: for admins only (docs/security.md).
    observe = params.get("observe")

    refusal = None
    if bad_origin := origin_refusal(settings.allowed_origins, websocket.headers.get("origin")):
        refusal = _refuse(*bad_origin)
    elif fmt not in ("text", "json"):
        refusal = _refuse(400, "invalid_format", "format must be 'text' or 'json'")
    elif subprotocol is not None and fmt != "json":
        # Agreeing to desafio.v1.json and then speaking text would lie to the client.
        detail = f"the {JSON_SUBPROTOCOL} subprotocol speaks JSON: drop format=text or the offer"
        refusal = _refuse(400, "invalid_format", detail)
    elif room is not None and not is_room(room):  # the whole string: "staff\n" is not a room
        refusal = _refuse(400, "invalid_room", "room must match " + ROOM_PATTERN)
    elif not _HISTORY.match(history) or int(history) > MAX_HISTORY:
        refusal = _refuse(400, "invalid_history", f"history must be 0-{MAX_HISTORY}")
    elif guest_session is not None and not valid_session(guest_session):
        refusal = _refuse(400, "invalid_session", "session must be 16-128 of A-Z a-z 0-9 - _")
    elif observe not in (None, "0", "1"):
        refusal = _refuse(400, "invalid_observe", "observe must be 0 or 1")
    elif crowded is not None:  # MAX_CONNECTIONS (pending logins count) or per address: 503/429
        refusal = _refuse(*crowded)
    elif not hub.ready:
        refusal = _refuse(503, "unavailable", "server is not ready; retry later")
    # Authentication (backend/auth, docs/security.md): who connects, and may they enter the room
    # the handshake names (text mode: always a room).
    home = room if fmt == "json" else room or settings.default_room
    admission = await admit(auth, websocket, fmt, home)
    if refusal is None and admission.refusal is not None:
        refusal = _refuse(*admission.refusal)
    observer = observe == "1"
    if refusal is None and observer and not (admission.identity and admission.identity.is_admin):
        # Checked at the handshake (a header or ?token=): a first-frame login comes too late.
        refusal = _refuse(403, "forbidden", "observe=1 needs an admin token at the handshake")
    if refusal is None and admission.identity is None and not admission.pending:
        # A guest's name: NFC, no control/format/bidi characters, not a registered user's.
        name, bad_name = await guest_name(auth, name)
        if bad_name is not None:
            refusal = _refuse(*bad_name)
    if refusal is not None:
        # One line per refusal, with the reason (never the query string: it may hold a token).
        log.info(
            "refused a /ws handshake from %s: %d %s",
            websocket.client.host if websocket.client else "?",
            refusal.status_code,
            bytes(refusal.body).decode(errors="replace"),
        )
        await websocket.send_denial_response(refusal)
        return False

    await websocket.accept(subprotocol=subprotocol)
    identity = admission.identity
    if admission.pending:  # JSON mode, auth required, no token yet: the first frame must be one
        identity = await first_frame_identity(websocket, auth)
        if identity is None:
            return False
    mode = Mode(fmt)
    protocol = find_protocol(websocket.scope)
    sink: Sink = (
        RawSink(protocol, settings.close_timeout, hub.flusher, coalesce=mode is Mode.JSON)
        if protocol is not None
        else AsgiSink(websocket.send, settings.close_timeout)
    )
    hub.metrics.ws_paths.labels("native" if protocol is not None else "asgi").inc()
    # An authenticated connection is its token's user, whatever `name=` says.
    sender = identity.sender() if identity is not None else guest(name, guest_session)
    conn = hub.open(sender, mode, sink, observer)
    if sender.guest and websocket.client is not None:
        conn.quota_key = "addr:" + websocket.client.host  # guest ids are free to change
    session = Session(hub, conn, room or settings.default_room)
    access = session.access = ConnectionAccess(auth, conn, identity or anonymous(conn.name))
    code: int | None = None
    handed_over = False
    try:
        if mode is Mode.TEXT:
            await session.join_home(int(history))
        else:
            hub.send(conn, welcome(conn, settings))
            if room is not None and not access.allows(room):  # only after a first-frame auth
                session.error("forbidden", f"not allowed in room {room!r}")
                room = None
            if room is not None:
                await session.subscribe(room, history=int(history))
        if protocol is not None:
            # From here the native protocol feeds the session from the socket; no task waits.
            protocol.attach(Inbound(protocol, session, _Ending(session, access, release)))
            handed_over = True
            return True
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                code = message.get("code")
                break
            text = message.get("text")
            if text is not None:
                await session.on_text(text)
            else:
                session.on_binary()
    except Exception as exc:  # noqa: BLE001 - Close, or a bug: the session says which
        session.fail(exc)
        await conn.wait_closing()
    finally:
        if not handed_over:
            access.end()
            await hub.disconnect(conn, code)
    return False


class _Ending:
    """What ends a native session once its socket is gone (the ASGI path's `finally` above).
    One slotted object per connection, where a `partial` of a function was four."""

    __slots__ = ("access", "release", "session")

    def __init__(
        self, session: Session, access: ConnectionAccess, release: Callable[[], None] | None
    ) -> None:
        self.session = session
        self.access = access
        self.release = release

    async def __call__(self, code: int | None) -> None:
        try:
            self.access.end()
            await self.session.hub.disconnect(self.session.conn, code)
        finally:
            if self.release is not None:
                self.release()
