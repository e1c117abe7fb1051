"""uvicorn's sans-I/O WebSocket protocol, with the hooks the hub needs to write without awaiting.

`python -m backend` runs uvicorn with this class. The hub then writes pre-framed text frames
straight into the transport while it is writable, and queues per connection only when it is not:
one `transport.write` per delivery instead of a task switch and an ASGI round trip. Under the plain
uvicorn CLI the hub falls back to ASGI `send`, which behaves the same, only slower.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

EXTENSION = "desafio.transport"


class HubWebSocketProtocol(WebSocketsSansIOProtocol):
    """Adds `write_raw`, `close_now` and a shutdown hook; everything else is uvicorn's."""

    on_shutdown: Callable[[], None] | None = None

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The parsed request (its headers are in the scope too) is not needed after this; an
        # idle connection would keep it for hours.
        self.request = None  # type: ignore[assignment]
        if not self.close_sent:
            self.scope["extensions"][EXTENSION] = {"protocol": self}

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.response = None  # type: ignore[assignment]  # only the handshake needed it

    @property
    def raw_capable(self) -> bool:
        # Pre-framed writes are only valid when no extension (permessage-deflate) rewrites frames.
        return not self.conn.extensions

    def is_writable(self) -> bool:
        return self.writable.is_set() and not self.close_sent and not self.transport.is_closing()

    async def wait_writable(self) -> None:
        await self.writable.wait()

    def write_raw(self, data: bytes) -> None:
        """Write complete, unmasked frames; the caller keeps them whole and unfragmented."""
        if not self.close_sent and not self.transport.is_closing():
            self.transport.write(data)

    def close_now(self, code: int, reason: str, timeout: float) -> None:
        """Send a close frame without waiting for the write buffer to drain.

        uvicorn's own close awaits writability first, so a peer that stopped reading would never
        be closed. Here the close frame goes behind whatever is buffered, and if the peer has not
        answered within `timeout` the TCP connection is aborted, freeing its buffers.
        """
        if self.close_sent or self.transport.is_closing():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.stop_keepalive()
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(timeout, self.transport.abort)

    def handle_parser_exception(self) -> None:
        # A frame over ws_max_size (1009) or a protocol violation. uvicorn closes the socket at
        # once; with the rest of the peer's oversized frame still arriving, the kernel answers with
        # RST and the peer never reads our close code. Instead: send the close frame and FIN, keep
        # reading (websockets discards everything now) until the peer closes, or abort on timeout.
        if self.close_sent:
            return
        assert self.conn.close_sent is not None
        code, reason = self.conn.close_sent.code, self.conn.close_sent.reason
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.stop_keepalive()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def shutdown(self) -> None:
        # uvicorn closes with 1012 (service restart); we flush what is queued and say 1001.
        if self.handshake_complete and not self.close_sent and not self.transport.is_closing():
            if self.on_shutdown is not None:
                self.on_shutdown()
            if self.initial_response is None:
                self.close_now(1001, "server shutting down", self.close_timeout)
                return
        super().shutdown()


def find_protocol(scope: MutableMapping[str, Any]) -> HubWebSocketProtocol | None:
    """The fast-path protocol behind this connection, if the server runs it and it may be used."""
    extensions = scope.get("extensions")
    if not isinstance(extensions, dict):
        return None
    entry = extensions.get(EXTENSION)
    protocol = entry.get("protocol") if isinstance(entry, dict) else None
    if isinstance(protocol, HubWebSocketProtocol) and protocol.raw_capable:
        return protocol
    return None


__all__ = ["HubWebSocketProtocol", "find_protocol"]
