"""Bench peer: the original design's naive FastAPI loop, run with plain `uvicorn`.

A set of sockets per room and `await send_text` to each other client in turn, inside the sender's
receive loop. JSON mode parses the publish object, acks the author and sends one serialised
`message` object to the others.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
rooms: dict[str, set[WebSocket]] = {}
ids = itertools.count(1)


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.websocket("/ws")
async def ws_endpoint(websocket: WebSocket, room: str = "lobby", format: str = "text") -> None:
    await websocket.accept()
    members = rooms.setdefault(room, set())
    members.add(websocket)
    try:
        if format == "json":
            await websocket.send_text(json.dumps({"type": "welcome", "rooms": [room]}))
        while True:
            data = await websocket.receive_text()
            if format == "json":
                frame = json.loads(data)
                mid = next(ids)
                ack = {"type": "ack", "ref": frame.get("ref"), "id": mid, "room": room}
                await websocket.send_text(json.dumps(ack))
                data = json.dumps(
                    {
                        "type": "message", "id": mid, "room": room, "sender": "guest",
                        "text": frame.get("text"), "data": frame.get("data"),
                        "ts": datetime.now(UTC).isoformat(),
                    }
                )  # fmt: skip
            for client in list(members):
                if client is not websocket:
                    await client.send_text(data)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)
