"""Bench peer: a `websockets` library server fanning out with `websockets.broadcast()`.

Same URL contract as the hub. JSON mode parses the publish object, acks the author and
broadcasts one serialised `message` object to the other members (stdlib json, as its docs do).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

ROOMS: dict[str, set[ServerConnection]] = {}
IDS = itertools.count(1)


def readyz(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/readyz":
        return connection.respond(HTTPStatus.OK, "ready\n")
    return None


async def handler(ws: ServerConnection) -> None:
    query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
    room = query.get("room", ["lobby"])[0]
    as_json = query.get("format", ["text"])[0] == "json"
    members = ROOMS.setdefault(room, set())
    members.add(ws)
    try:
        if as_json:
            await ws.send(json.dumps({"type": "welcome", "name": "guest", "rooms": [room]}))
        async for data in ws:
            if not isinstance(data, str):
                continue
            payload = data
            if as_json:
                frame = json.loads(data)
                mid = next(IDS)
                ack = {"type": "ack", "ref": frame.get("ref"), "id": mid, "room": room}
                await ws.send(json.dumps(ack))
                payload = json.dumps(
                    {
                        "type": "message", "id": mid, "room": room, "sender": "guest",
                        "text": frame.get("text"), "data": frame.get("data"),
                        "ts": datetime.now(UTC).isoformat(),
                    }
                )  # fmt: skip
            broadcast([m for m in members if m is not ws], payload)
    finally:
        members.discard(ws)


async def main() -> None:
    port = int(os.environ.get("PORT", "8767"))
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    # Keepalive pings off and no compression: the bench runs every server that way.
    server: Server
    async with serve(
        handler, "127.0.0.1", port, process_request=readyz, ping_interval=None, compression=None
    ) as server:
        await stop
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
