"""websocket-client helpers: connect, read JSON objects (a frame may carry several), silence."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import websocket

# Every socket a test opens, so that the suite closes what a failing test left open.
OPENED: list[websocket.WebSocket] = []


def connect(url: str, timeout: float = 5.0, **kwargs: Any) -> websocket.WebSocket:
    ws = websocket.create_connection(url, timeout=timeout, **kwargs)
    OPENED.append(ws)
    return ws


def close_all() -> None:
    while OPENED:
        ws = OPENED.pop()
        # close() gives up on a connection the server already closed; shutdown() frees the socket.
        with contextlib.suppress(Exception):
            ws.close(timeout=0.5)
        ws.shutdown()  # type: ignore[no-untyped-call]


class JsonClient:
    """A JSON-mode client that splits frames on newlines and keeps objects in arrival order."""

    def __init__(self, base_url: str, query: str = "", timeout: float = 5.0) -> None:
        sep = "&" if query else ""
        self.ws = connect(f"{base_url}?format=json{sep}{query}", timeout=timeout)
        self.buffer: list[dict[str, Any]] = []
        self.welcome = self.next()

    def send(self, **obj: Any) -> None:
        self.ws.send(json.dumps(obj))

    def next(self, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The next object, ignoring those whose type is in `skip`."""
        obj = self._pop()
        while obj["type"] in skip:
            obj = self._pop()
        return obj

    def _pop(self) -> dict[str, Any]:
        while not self.buffer:
            frame = self.ws.recv()
            assert isinstance(frame, str), f"expected a text frame, got {frame!r}"
            self.buffer.extend(json.loads(line) for line in frame.split("\n"))
        return self.buffer.pop(0)

    def next_of(self, kind: str) -> dict[str, Any]:
        """The next object of this type, skipping others (presence, say)."""
        while True:
            obj = self._pop()
            if obj["type"] == kind:
                return obj

    def subscribe(self, room: str) -> dict[str, Any]:
        self.send(type="subscribe", room=room)
        return self.next_of("subscribed")

    def close(self) -> None:
        self.ws.close()


def assert_silent(ws: websocket.WebSocket, wait: float = 0.3) -> None:
    """Nothing arrives on `ws` within `wait` seconds."""
    old = ws.gettimeout()
    ws.settimeout(wait)
    try:
        try:
            data = ws.recv()
        except websocket.WebSocketTimeoutException:
            return
        raise AssertionError(f"expected silence, received {data!r}")
    finally:
        ws.settimeout(old)


def publish_acked(url: str, room: str, texts: list[str], name: str = "alice") -> None:
    """Publish `texts` in order as `name` and wait until each is acknowledged (so stored)."""
    author = JsonClient(url, f"name={name}&room={room}")
    author.next_of("subscribed")
    # Fresh refs: a ref already used by this name in this room would be acknowledged, not sent.
    batch = uuid.uuid4().hex[:8]
    for n, text in enumerate(texts):
        author.send(type="publish", room=room, text=text, ref=f"{batch}-{n}")
    for _ in texts:
        author.next_of("ack")
    author.close()
