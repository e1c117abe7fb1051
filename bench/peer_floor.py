"""Bench peer: the least any server built as issue 17 asks can cost per connection.

uvicorn's HTTP protocol (httptools, uvloop) hands each upgrade to the `ws` class below, whose
websockets `ServerProtocol` answers the handshake: the two parts issue 17 requires of the hub's
connection layer, and nothing else (no app, no admission, no rooms, no fan-out). Its connects/s
is the ceiling of the hub's own; `FLOOR_GC=off` runs it with the cycle collector off, a
measurement only. It serves the `idle` scenario and nothing else (bench.peers.Peer.only).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from typing import Any

import uvicorn
from websockets.http11 import Request
from websockets.server import ServerProtocol

QUIET = logging.getLogger("bench.floor")
QUIET.setLevel(logging.WARNING)


class FloorWebSocket(asyncio.Protocol):
    """Answers the upgrade, then reads and drops whatever comes."""

    __slots__ = ("transport", "ws")

    def __init__(self, config: Any, server_state: Any, app_state: Any) -> None:
        self.transport: asyncio.Transport | None = None
        self.ws = ServerProtocol(logger=QUIET)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Request):
                self.ws.send_response(self.ws.accept(event))
        for chunk in self.ws.data_to_send():
            if chunk and self.transport is not None:
                self.transport.write(chunk)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def app(scope: Any, receive: Any, send: Any) -> None:
    """`/readyz` for bench.peers.Server; every HTTP request gets the same 200."""
    if scope["type"] == "http":
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


def main() -> None:
    if os.environ.get("FLOOR_GC") == "off":
        gc.disable()
    port = int(os.environ.get("PORT", "8768"))
    uvicorn.run(
        app, host="127.0.0.1", port=port, ws=FloorWebSocket, http="httptools", loop="uvloop",
        log_level="warning", lifespan="off", ws_ping_interval=None,
    )  # fmt: skip


if __name__ == "__main__":
    main()
