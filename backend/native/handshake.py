"""The ASGI conversation of one `/ws` handshake on the native path, and nothing after it.

The app decides who may connect (origin, room, token, first-frame login, capacity) exactly as it
does under any ASGI server, through the standard WebSocket events: this module turns the request
websockets parsed into an ASGI scope, answers `receive` with `websocket.connect` and then the
frames the protocol hands over, and turns `send` events into the handshake's answer. Once the app
has handed the session to the protocol (backend.routes.ws), the task running it ends and this
object is dropped: an established connection keeps no ASGI state.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any, Protocol

from starlette.types import Message, Scope
from websockets.datastructures import Headers
from websockets.http11 import Request, Response


class Answering(Protocol):
    """What the handshake needs of the connection (backend.native.protocol.NativeWebSocket)."""

    transport: asyncio.Transport | None
    client: tuple[str, int] | None
    scheme: str
    accepted: bool

    def accept(self, request: Request, subprotocol: str | None, headers: Any) -> None: ...
    def deny(self, response: Response) -> None: ...
    def close_now(self, code: int, reason: str, timeout: float | None = None) -> None: ...
    def send_text(self, text: str) -> None: ...


# The scope key under which the app finds the protocol (backend.routes.ws).
EXTENSION = "desafio.native"
# The handshake's access line, as uvicorn writes it, where backend.logs redacts secrets.
ACCESS = logging.getLogger("uvicorn.error")


def scope_of(request: Request, protocol: Answering, root_path: str, state: dict[str, Any]) -> Scope:
    """The ASGI `websocket` scope uvicorn would build for this request."""
    path, _, query = request.path.partition("?")
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in request.headers.raw_items()
    ]
    offered = request.headers.get_all("Sec-WebSocket-Protocol")
    subprotocols = [item.strip() for value in offered for item in value.split(",") if item.strip()]
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": protocol.scheme,
        # The server's address is read for the scope only: not kept per connection.
        "server": address(protocol.transport.get_extra_info("sockname"))
        if protocol.transport is not None
        else None,
        "client": protocol.client,
        "root_path": root_path,
        "path": path,
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "headers": headers,
        "subprotocols": subprotocols,
        "state": state.copy(),
        "extensions": {"websocket.http.response": {}, EXTENSION: {"protocol": protocol}},
    }


# websockets' limits for a handshake request: a line, and the number of headers.
MAX_LINE = 8192
MAX_HEADERS = 128


def parse_head(head: bytes) -> Request | Response:
    """The request uvicorn hands over (it parsed it, then wrote it out again: well formed, one
    `name: value` per line), as websockets' Request; or the answer refusing it, with the status
    websockets would give (414 for a request line, 431 for a header line over 8 KiB or more than
    128 headers).

    websockets' own parser would do it too, but it keeps the request in its generator for the
    connection's lifetime, and parsing twice what uvicorn parsed once cost a sixth of a connect.
    """
    lines = head.decode("latin-1").split("\r\n")
    if len(lines[0]) > MAX_LINE:
        return refusal(414, "request line too long")
    method, _, rest = lines[0].partition(" ")
    path, _, protocol = rest.rpartition(" ")
    if not path or not protocol:
        return refusal(400, "malformed request line")
    headers = Headers()
    fields = [line for line in lines[1:] if line]
    if len(fields) > MAX_HEADERS:
        return refusal(431, "too many header fields")
    for line in fields:
        if len(line) > MAX_LINE:
            return refusal(431, "request header fields too large")
        name, sep, value = line.partition(":")
        if not sep:
            return refusal(400, "malformed header line")
        headers[name] = value.strip()
    return Request(path, headers, method, protocol)


def refusal(status: int, detail: str) -> Response:
    """A plain-text HTTP answer that ends the connection."""
    body = f"Failed to open a WebSocket connection: {detail}.\n".encode()
    return _response(status, [(b"content-type", b"text/plain; charset=utf-8")], body)


def address(info: Any) -> tuple[str, int] | None:
    """(host, port) from a transport's peername or sockname."""
    if isinstance(info, tuple) and len(info) >= 2:
        return (str(info[0]), int(info[1]))
    return None


class Handshake:
    """`receive` and `send` for the app while it decides; the protocol feeds `inbox`."""

    def __init__(self, protocol: Answering, request: Request) -> None:
        self.protocol = protocol
        self.request: Request | None = request
        self.connected = False
        self.answered = False  # accepted, denied or closed: the app said what happens
        self.inbox: list[Message] = []
        self.waiter: asyncio.Future[None] | None = None
        self.denial: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self.body: list[bytes] = []

    def put(self, message: Message) -> None:
        """A frame or the disconnect, for a `receive` (the first-frame login awaits one)."""
        self.inbox.append(message)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while not self.inbox:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.inbox.pop(0)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        protocol = self.protocol
        if kind == "websocket.accept" and not self.answered:
            assert self.request is not None
            self.answered = True
            self._log("[accepted]")
            protocol.accept(self.request, message.get("subprotocol"), message.get("headers", []))
            self.request = None
        elif kind == "websocket.http.response.start" and not self.answered:
            self.denial = (message["status"], list(message.get("headers", [])))
        elif kind == "websocket.http.response.body" and self.denial is not None:
            self.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.answered = True
                status, headers = self.denial
                self._log(str(status))
                protocol.deny(_response(status, headers, b"".join(self.body)))
        elif kind == "websocket.close" and not self.answered:
            self.answered = True
            self._log("403")
            protocol.deny(_response(403, [], b""))
        elif kind == "websocket.close":
            protocol.close_now(message.get("code", 1000), message.get("reason") or "")
        elif kind == "websocket.send" and self.answered and protocol.accepted:
            text = message.get("text")
            if text is not None:
                protocol.send_text(text)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} in the /ws handshake")

    def _log(self, outcome: str) -> None:
        if ACCESS.isEnabledFor(logging.INFO) and self.request is not None:
            client = self.protocol.client
            where = f"{client[0]}:{client[1]}" if client else "?"
            ACCESS.info('%s - "WebSocket %s" %s', where, self.request.path, outcome)


def _response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Response:
    fields = Headers()
    for name, value in headers:
        fields[name.decode("latin-1")] = value.decode("latin-1")
    if "Content-Length" not in fields:
        fields["Content-Length"] = str(len(body))
    fields["Connection"] = "close"
    return Response(status, HTTPStatus(status).phrase, fields, body)
