"""`/ws`: the handshake (mode, room, name, capacity) and the receive loop of a connection."""

from __future__ import annotations

import re

from fastapi import APIRouter, WebSocket
from starlette.responses import JSONResponse

from backend.deps import HubDep, SettingsDep
from backend.hub.connection import Mode
from backend.hub.outbound import AsgiSink, RawSink, Sink
from backend.protocol import ROOM_PATTERN
from backend.session import Close, Session
from backend.transport import find_protocol

router = APIRouter()

JSON_SUBPROTOCOL = "desafio.v1.json"
_ROOM = re.compile(ROOM_PATTERN)
# Display names: 1-32 characters, no control characters (they would corrupt logs and UIs).
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,32}$")


def _refuse(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "detail": detail}}, status_code=status)


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, hub: HubDep, settings: SettingsDep) -> None:
    params = websocket.query_params
    subprotocol = JSON_SUBPROTOCOL if JSON_SUBPROTOCOL in websocket.scope["subprotocols"] else None
    fmt = params.get("format", "json" if subprotocol else "text")
    room = params.get("room")
    name = params.get("name")

    refusal = None
    if fmt not in ("text", "json"):
        refusal = _refuse(400, "invalid_format", "format must be 'text' or 'json'")
    elif room is not None and not _ROOM.match(room):
        refusal = _refuse(400, "invalid_room", "room must match " + ROOM_PATTERN)
    elif name is not None and not _NAME.match(name):
        refusal = _refuse(400, "invalid_name", "name must be 1-32 characters, no control chars")
    elif len(hub.connections) >= settings.max_connections or not hub.ready:
        refusal = _refuse(503, "unavailable", "server is at capacity or not ready; retry later")
    if refusal is not None:
        await websocket.send_denial_response(refusal)
        return

    await websocket.accept(subprotocol=subprotocol)
    mode = Mode(fmt)
    protocol = find_protocol(websocket.scope)
    sink: Sink = (
        RawSink(protocol, settings.close_timeout)
        if protocol is not None
        else AsgiSink(websocket.send, settings.close_timeout)
    )
    conn = hub.open(name, mode, sink)
    session = Session(hub, conn, room or settings.default_room)
    code: int | None = None
    try:
        if mode is Mode.TEXT:
            await hub.join(conn, session.home_room)
        else:
            hub.send(conn, {"type": "welcome", "name": conn.name, "rooms": []})
            if room is not None:
                await session.subscribe(room)
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
    except Close as close:
        hub.metrics.closes.labels(str(close.code)).inc()
        conn.close(close.code, close.reason)
        await conn.wait_closing()
    finally:
        await hub.disconnect(conn, code)
