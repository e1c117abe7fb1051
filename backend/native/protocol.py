"""`/ws` served straight from the socket: websockets' Sans-I/O protocol feeding the hub.

uvicorn hands every upgraded connection to the class given as its `ws` option (the one interface
used, pinned by tests/backend/native/test_uvicorn_contract.py). For `/ws` this class answers the
handshake through the app's ASGI route (backend.native.handshake), then serves the session from
`data_received`: frames are parsed by websockets, handed to the session in order, and its answers
and the fan-out are written into the transport. An idle connection holds this object, a
websockets `ServerProtocol` and the hub's own state: no task, queue or event. Other paths go to
uvicorn's own WebSocket protocol, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar, cast

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from backend.closecodes import CloseCode
from backend.native.budgets import SocketBudgets
from backend.native.handshake import Handshake, address, parse_head, scope_of
from backend.native.keepalive import Keepalive
from backend.native.session import Inbound

log = logging.getLogger("desafio.native")
# websockets logs "connection open" at INFO for every connection; that is ours to say (or not).
QUIET = logging.getLogger("desafio.native.websockets")
QUIET.setLevel(logging.WARNING)
# Bytes a client may send before its handshake is answered (it should send none).
MAX_EARLY_BYTES = 64 * 1024


_CONTROL = (Opcode.PING, Opcode.PONG)


class NativeWebSocket(asyncio.Protocol):
    """One WebSocket connection: handshake, frames, budgets, close; see the module docstring."""

    # Set by `configured` (backend.native.server): what every connection shares.
    budgets: ClassVar[SocketBudgets]
    fallback: ClassVar[Callable[..., asyncio.Protocol]]
    pinger: ClassVar[Keepalive]
    path: ClassVar[str] = "/ws"

    __slots__ = (
        "_closer", "_head", "_origin", "_ws", "accepted", "budget", "client", "connections",
        "handshake", "inbound", "lost", "on_connection_lost", "paused", "ping_sent", "pong_due",
        "relay", "scheme", "transport", "waiter",
    )  # fmt: skip

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any]) -> None:
        # uvicorn's keyword arguments (the contract); kept only until the handshake is decided.
        self._origin: tuple[Any, Any, dict[str, Any]] | None = (config, server_state, app_state)
        self.connections: set[Any] = server_state.connections
        self.transport: asyncio.Transport | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "ws"
        # Frames only: the handshake is parsed by uvicorn and answered through `accept`.
        self._ws = ServerProtocol(
            max_size=self.budgets.max_message_bytes, state=State.OPEN, logger=QUIET
        )
        self.handshake: Handshake | None = None
        self.inbound: Inbound | None = None  # the session's frames, once established
        self.relay: asyncio.Protocol | None = None  # uvicorn's protocol, for another path
        self.budget = self.budgets.for_socket()
        self.accepted = False
        self.lost = False
        self.paused = False  # the transport's write buffer is over its high-water mark
        self.waiter: asyncio.Future[None] | None = None
        self.ping_sent = 0.0  # monotonic time of the last keepalive ping
        self.pong_due = False
        self._closer: asyncio.TimerHandle | None = None
        self._head: bytes | None = None  # the request as uvicorn gave it, until it is decided
        # Set by backend.gate: the TCP connection's count is released when it closes.
        self.on_connection_lost: Callable[[], None] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.connections.add(self)
        self.client = address(transport.get_extra_info("peername"))
        self.scheme = "wss" if transport.get_extra_info("sslcontext") else "ws"
        self.pinger.watch(self.connections)

    def data_received(self, data: bytes) -> None:
        if self.relay is not None:
            self.relay.data_received(data)
            return
        if not self.accepted:
            # The request head (uvicorn gives it whole), then anything sent before our answer.
            self._head = data if self._head is None else self._head + data
            if len(self._head) > MAX_EARLY_BYTES:
                self._close_transport()
            elif self._origin is not None:
                self._request()
            return
        # Every byte counts, whatever becomes of it: after our close frame, or once the socket
        # is abandoned, the peer is still read no faster than its budget until the abort.
        delay = self.budget.inbound.spend(len(data))
        if delay > 0:
            self._throttle(delay)
        if self.budget.abandoned:
            return  # closed for abuse: nothing it sends is parsed any more
        self._ws.receive_data(data)
        self._frame_events()

    def eof_received(self) -> bool | None:
        if self.relay is not None:
            return self.relay.eof_received()
        if self.accepted:
            self._ws.receive_eof()
            self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.connections.discard(self)
        if self.relay is not None:
            self.relay.connection_lost(exc)
        if self._closer is not None:
            self._closer.cancel()
            self._closer = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if self.handshake is not None:
            self.handshake.put({"type": "websocket.disconnect", "code": 1006})
        if self.inbound is not None:
            received = self._ws.close_rcvd
            self.inbound.ended(received.code if received is not None else 1006)
        if self.on_connection_lost is not None:
            self.on_connection_lost()
            self.on_connection_lost = None
        # This object, the transport and the session's objects point at one another (transport
        # ⇄ protocol → inbound → session → connection → sink → protocol). Cut here, they are
        # freed as soon as the hub lets go of the connection; as a cycle they would wait for a
        # full collection, which at 10,000 connections costs everyone a pause.
        self.inbound = None
        self.transport = None

    def pause_writing(self) -> None:
        if self.relay is not None:
            self.relay.pause_writing()
        self.paused = True

    def resume_writing(self) -> None:
        if self.relay is not None:
            self.relay.resume_writing()
        self.paused = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # The handshake

    def _request(self) -> None:
        assert self._origin is not None and self._head is not None
        end = self._head.find(b"\r\n\r\n")
        if end == -1:
            return
        request = parse_head(self._head[: end + 4])
        if isinstance(request, Response):
            self._answer(request)
        elif request.path.partition("?")[0] != self._origin[0].root_path + self.path:
            self._hand_over(request)
        else:
            self._head = self._head[end + 4 :] or None
            self._decide(request)

    def _hand_over(self, request: Request) -> None:
        """Another path: uvicorn's own protocol serves it, through ASGI, from here on."""
        assert self._origin is not None and self.transport is not None
        config, server_state, app_state = self._origin
        self._origin = None
        self.connections.discard(self)
        relay = self.fallback(config=config, server_state=server_state, app_state=app_state)
        relay.connection_made(self.transport)
        relay.data_received(self._head or b"")
        self._head = None
        self.relay = relay

    def _decide(self, request: Request) -> None:
        assert self._origin is not None
        config, server_state, app_state = self._origin
        self._origin = None
        self.handshake = Handshake(self, request)
        scope = scope_of(request, self, config.root_path, app_state)
        app = config.loaded_app
        task = asyncio.get_running_loop().create_task(self._run_app(app, scope, self.handshake))
        # Held where uvicorn holds its own (the loop keeps only a weak reference), and awaited
        # by its shutdown like theirs.
        server_state.tasks.add(task)
        task.add_done_callback(server_state.tasks.discard)

    async def _run_app(self, app: Any, scope: Any, handshake: Handshake) -> None:
        try:
            await app(scope, handshake.receive, handshake.send)
        except Exception:
            log.exception("the /ws handshake failed")
            if not handshake.answered:
                self.deny(Response(500, "Internal Server Error", Headers(), b""))
            else:
                self.close_now(CloseCode.INTERNAL_ERROR, "internal error")
        else:
            if not handshake.answered:
                self.deny(Response(500, "Internal Server Error", Headers(), b""))
            elif self.accepted and self.inbound is None:
                self.close_now(CloseCode.NORMAL, "")  # the app ended the session itself
        finally:
            self.handshake = None

    def accept(self, request: Request, subprotocol: str | None, headers: Any) -> None:
        """The app accepted: answer 101 and switch to frames.

        websockets checks the request and builds the answer (`ServerProtocol.accept`); the
        protocol that will parse the frames was made in the OPEN state, so it never parses the
        request itself: its handshake parser would hold the request's headers for as long as the
        connection lives.
        """
        response = self._ws.accept(request)
        if response.status_code != 101:  # not a valid WebSocket request after all
            self._answer(response)
            return
        if subprotocol is not None:
            response.headers["Sec-WebSocket-Protocol"] = subprotocol
        for name, value in headers:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response.serialize())
        self.accepted = True
        early, self._head = self._head, None
        if early:  # frames sent before our answer (not allowed, but harmless)
            self.data_received(early)

    def deny(self, response: Response) -> None:
        """An HTTP answer instead of the upgrade; the connection ends with it."""
        self._answer(response)

    def _answer(self, response: Response) -> None:
        self._head = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response.serialize())
            if self.transport.can_write_eof():
                self.transport.write_eof()
        self._close_transport()

    def attach(self, inbound: Inbound) -> None:
        """The app established the session: its frames go straight to it from now on."""
        if self.lost:
            inbound.ended(1006)
            return
        self.inbound = inbound
        if self.handshake is not None:
            for message in self.handshake.inbox:  # frames that came while the app decided
                if message["type"] == "websocket.receive":
                    inbound.text(message["text"])
            self.handshake.inbox.clear()

    # Frames

    def _frame_events(self) -> None:
        ws = self._ws
        events = ws.events_received()
        # Frames that are not whole messages cost parsing, and the message rate limit never
        # sees them: control frames, and fragments (an empty continuation frame is 6 bytes).
        controls = fragments = 0
        for event in events:  # one pass: a publisher's chunk holds many whole frames
            if isinstance(event, Frame):
                if event.opcode in _CONTROL:
                    controls += 1
                elif event.opcode is Opcode.CONT or not event.fin:
                    fragments += 1
        if (controls or fragments) and ws.close_sent is None:
            # websockets queued a pong for every ping in this chunk already: the budget is spent
            # for the chunk, before any of them is written.
            if not self.budget.control.allow(controls + fragments):
                self.abandon(CloseCode.POLICY_VIOLATION, "too many control frames or fragments")
                return
            if (
                controls
                and self.transport is not None
                and (self.transport.get_write_buffer_size() > self.budgets.max_unread_bytes)
            ):
                # Pongs are outbound bytes too: one that pings and never reads is a slow consumer.
                self.abandon(CloseCode.SLOW_CONSUMER, "slow consumer: not reading")
                return
        self._flush()
        for event in events:
            if not isinstance(event, Frame):
                continue
            if event.opcode is Opcode.PONG:
                self.pong_due = False
            elif event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self._message(event)
        if ws.state is State.CLOSED or (ws.close_rcvd is not None and ws.close_sent is not None):
            self._close_transport()  # the closing handshake is over: the server closes TCP

    def _message(self, frame: Frame) -> None:
        inbound = self.inbound or self.handshake
        if inbound is None or self._ws.close_sent is not None:
            return
        assembled = self.budget.assemble(frame)
        if assembled is None:
            return
        opcode, payload = assembled
        if opcode is Opcode.BINARY:
            if self.inbound is not None:
                self.inbound.binary()
            else:
                self.close_now(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported")
            return
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            self.close_now(CloseCode.INVALID_DATA, "invalid UTF-8 in a text frame")
            return
        if self.inbound is not None:
            self.inbound.text(text)
        elif self.handshake is not None:
            self.handshake.put({"type": "websocket.receive", "text": text})

    # Writing

    def _flush(self) -> None:
        """Write what websockets queued (answers, pongs, close frames); b"" means half-close."""
        transport = self.transport
        if transport is None or transport.is_closing():
            self._ws.data_to_send()
            return
        for chunk in self._ws.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _throttle(self, delay: float) -> None:
        """Past the inbound budget, stop reading until it refills: TCP flow control then slows
        the sender down, and its frames wait in its own buffers, not in ours."""
        if not self.budget.throttled and self.transport is not None:
            self.budget.throttled = True
            self._reading()
            asyncio.get_running_loop().call_later(delay, self._unthrottle)

    def _unthrottle(self) -> None:
        self.budget.throttled = False
        self._reading()

    def pause_reading(self) -> None:
        """The session is busy with a frame that awaits: later ones wait in the socket."""
        self.budget.held = True
        self._reading()

    def resume_reading(self) -> None:
        """The session is done with the frame it awaited."""
        self.budget.held = False
        self._reading()

    def _reading(self) -> None:
        # Two reasons pause reading, each lifted on its own: only when neither holds is the
        # socket read again. (A budget refilled while the session still awaited once resumed
        # reading, and every frame after it piled up in the session's backlog unchecked.)
        if self.transport is None or self.transport.is_closing():
            return
        if self.budget.throttled or self.budget.held:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    # What the hub and the session call (backend.hub.sinks.RawSink)

    def is_writable(self) -> bool:
        return not self.paused and not self.is_gone()

    def is_gone(self) -> bool:
        """Closing or closed: nothing will ever be writable again."""
        return (
            self._ws.close_sent is not None
            or self.transport is None
            or (self.transport.is_closing())
        )

    async def wait_writable(self) -> None:
        while self.paused and not self.lost:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def write_raw(self, data: bytes) -> None:
        """Write complete, unmasked frames; the caller keeps them whole and unfragmented."""
        if not self.is_gone():
            assert self.transport is not None
            self.transport.write(data)

    def send_text(self, text: str) -> None:
        if not self.is_gone():
            self._ws.send_text(text.encode())
            self._flush()

    def keepalive(self, now: float, interval: float, timeout: float) -> None:
        """A tick of backend.native.keepalive: ping, or close if the last ping went unanswered."""
        if self.inbound is None or self.is_gone():
            return
        if self.pong_due:
            if timeout > 0 and now - self.ping_sent >= timeout:
                self.close_now(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        elif now - self.ping_sent >= interval:
            self._ws.send_ping(b"")
            self._flush()
            self.ping_sent = now
            self.pong_due = True

    def close_now(self, code: int, reason: str, timeout: float | None = None) -> None:
        """Send a close frame behind whatever is buffered, without waiting for it to drain; if
        the peer has not answered within `timeout` (CLOSE_TIMEOUT), abort the TCP connection."""
        if self.is_gone():
            return
        assert self.transport is not None
        self._ws.send_close(code, reason)
        self._flush()
        if self.budget.held:
            # The session is over: read the peer's answer to our close, within the budget.
            self.budget.held = False
            self._reading()
        delay = timeout if timeout is not None else self.budgets.close_timeout
        self._closer = asyncio.get_running_loop().call_later(delay, self.transport.abort)

    def abandon(self, code: int, reason: str) -> None:
        """Close an abusive connection: its queued answers are dropped, the close frame is sent,
        and nothing it sends is parsed any more (parsing a flood costs CPU too)."""
        self._ws.data_to_send()
        self.close_now(code, reason)
        self.budget.abandoned = True
        self.budgets.tally(code, reason)

    def shutdown(self) -> None:
        """uvicorn is stopping: flush what is queued for the client, then close with 1001."""
        if self.relay is not None:
            getattr(self.relay, "shutdown", self._close_transport)()
        elif self.budget.abandoned:
            # Closed for abuse and no longer read: its answer to our close would never be seen,
            # and waiting CLOSE_TIMEOUT for it would hold the whole shutdown.
            if self.transport is not None:
                self.transport.abort()
        elif self.inbound is not None:
            self.inbound.flush()
            self.close_now(CloseCode.GOING_AWAY, "server shutting down")
        elif self.accepted:  # still deciding (a first-frame login): nothing queued yet
            self.close_now(CloseCode.GOING_AWAY, "server shutting down")
        else:
            self._close_transport()
