"""uvicorn's sans-I/O WebSocket protocol, with the hooks the hub needs to write without awaiting.

`python -m backend` runs uvicorn with this class. The hub then writes pre-framed text frames
straight into the transport while it is writable, and queues per connection only when it is not:
one `transport.write` per delivery instead of a task switch and an ASGI round trip. Under the plain
uvicorn CLI the hub falls back to ASGI `send`, which behaves the same, only slower.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any, ClassVar

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

from backend.budgets import Bucket, Tally
from backend.closecodes import CloseCode
from backend.config import Settings

EXTENSION = "desafio.transport"
log = logging.getLogger("desafio.transport")
CLOSES = Tally(log)


class HubWebSocketProtocol(WebSocketsSansIOProtocol):
    """Adds `write_raw`, `close_now`, a shutdown hook and the socket's budgets (control frames,
    bytes written but unread, inbound bytes); everything else is uvicorn's."""

    on_shutdown: Callable[[], None] | None = None
    # Set by backend.gate: the TCP connection's count is released when it closes.
    on_connection_lost: Callable[[], None] | None = None
    # Budgets (see `configured`); these defaults are Settings' own.
    control_rate: ClassVar[float] = 10.0
    control_burst: ClassVar[int] = 50
    max_unread_bytes: ClassVar[int] = 1024 * 1024
    inbound_rate: ClassVar[int] = 256 * 1024
    inbound_burst: ClassVar[int] = 1024 * 1024
    close_after: ClassVar[float] = 5.0

    @classmethod
    def configured(cls, settings: Settings) -> type[HubWebSocketProtocol]:
        """A subclass bound to these settings (uvicorn builds the protocol from its class)."""
        attributes = {
            "control_rate": settings.control_frames_per_second,
            "control_burst": settings.control_frames_burst,
            "max_unread_bytes": settings.outbound_queue_bytes,
            "inbound_rate": settings.inbound_bytes_per_second,
            "inbound_burst": settings.inbound_bytes_burst,
            "close_after": settings.close_timeout,
        }
        return type("ConfiguredHubWebSocketProtocol", (cls,), attributes)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.close_timeout = self.close_after  # uvicorn's is a fixed 10 s
        self.control = Bucket(self.control_rate, self.control_burst)
        self.inbound = Bucket(self.inbound_rate, self.inbound_burst)
        # Reading stopped because the inbound budget is spent (uvicorn's read_paused is its own).
        self.throttled = False
        # Closed for abuse: input is discarded unparsed until the socket is aborted.
        self.abandoned = False

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.on_connection_lost is not None:
            self.on_connection_lost()
            self.on_connection_lost = None

    def data_received(self, data: bytes) -> None:
        if self.abandoned:
            return
        super().data_received(data)
        if not self.handshake_initiated:
            # websockets refused the request itself (request line over 8 KiB: 414; a header
            # line over 8 KiB or over 128 headers: 431) and queued its answer, which uvicorn
            # never writes: the socket would stay open, answerless, forever.
            if self.conn.handshake_exc is not None and not self.transport.is_closing():
                self.transport.write(b"".join(self.conn.data_to_send()))
                self.transport.close()
            return
        # The inbound byte budget: past it, stop reading until it refills, so TCP flow control
        # slows the sender down (its frames wait in its own buffers, not in ours).
        delay = self.inbound.spend(len(data))
        if delay > 0 and not self.throttled and not self.close_sent:
            self.throttled = True
            self.transport.pause_reading()
            self.loop.call_later(delay, self._unthrottle)

    def _unthrottle(self) -> None:
        self.throttled = False
        if not self.read_paused and not self.transport.is_closing():
            self.transport.resume_reading()

    async def receive(self) -> ASGIReceiveEvent:
        # uvicorn's, except that a throttled socket stays paused until its budget refills.
        message = await self.queue.get()
        if self.read_paused and self.queue.empty():
            self.read_paused = False
            if not self.throttled:
                self.transport.resume_reading()
        return message

    def handle_events(self) -> None:
        # websockets has parsed the whole chunk and queued a pong for every ping in it already:
        # the control-frame budget is spent here, for the chunk, before any of them is written.
        controls = sum(
            1
            for event in self.conn.events
            if isinstance(event, Frame) and event.opcode in (Opcode.PING, Opcode.PONG)
        )
        if controls and not self.close_sent:
            if not self.control.allow(controls):
                self.abandon(CloseCode.POLICY_VIOLATION, "too many control frames")
            elif self.transport.get_write_buffer_size() > self.max_unread_bytes:
                # Pongs are outbound bytes too: one that pings and never reads is a slow consumer.
                self.abandon(CloseCode.SLOW_CONSUMER, "slow consumer: not reading")
        super().handle_events()

    def handle_ping(self) -> None:
        if self.close_sent:
            self.conn.data_to_send()  # a closing connection answers no more pings
        else:
            super().handle_ping()

    def abandon(self, code: int, reason: str) -> None:
        """Close an abusive connection: its queued answers are dropped, the close frame is sent,
        and nothing it sends is parsed any more (parsing a flood costs CPU too)."""
        self.conn.data_to_send()
        self.close_now(code, reason, self.close_after)
        self.abandoned = True
        CLOSES.add(f"{code} {reason}")

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
        elif message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            # A refused handshake (400, 403, 429, 503) is answered and over. uvicorn leaves
            # handshake_complete unset and then logs "ASGI callable returned without completing
            # handshake" as an ERROR: one error line per refusal, which anyone could fill a disk
            # with.
            self.handshake_complete = True

    @property
    def raw_capable(self) -> bool:
        # Pre-framed writes are only valid when no extension (permessage-deflate) rewrites frames.
        return not self.conn.extensions

    def is_writable(self) -> bool:
        return self.writable.is_set() and not self.close_sent and not self.transport.is_closing()

    def is_gone(self) -> bool:
        """The peer's socket is closing or closed: nothing will ever be writable again."""
        return self.close_sent or self.transport.is_closing()

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
