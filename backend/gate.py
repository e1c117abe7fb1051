"""uvicorn's HTTP protocol (httptools) with the budgets a socket needs before any app code runs.

`python -m backend` runs uvicorn with `GatedHttpProtocol.configured(settings)`. From the moment a
TCP connection is accepted until it closes (after a WebSocket upgrade too), it is counted against
MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS; over either it is answered at once (503 or 429,
a JSON `error`) and closed. A request's line and headers must arrive within
HANDSHAKE_TIMEOUT_SECONDS (408) and fit in MAX_REQUEST_HEAD_BYTES (431); a body must fit in
MAX_REQUEST_BODY_BYTES (413). uvicorn's own protocol has none of these: it waits forever for a
request that arrives one byte a second, and buffers whatever a URL, a header or a body holds.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.budgets import Occupancy, Place, Proxies, RequestRates, Tally
from backend.config import Settings

log = logging.getLogger("desafio.gate")
REFUSALS = Tally(log)

# Header lines (and trailers) a request may have: uvicorn keeps each as two bytes objects in a
# tuple (~130 B), so 3,200 four-byte lines within the byte limit cost 0.4 MiB a connection.
MAX_HEADER_LINES = 100
# Requests a connection may have waiting behind the one being answered (HTTP/1.1 pipelining).
# uvicorn queues every pipelined request it parses and resumes reading after each answer, so a
# client that never reads its answers grew that queue without bound (180 MiB from one socket in
# ten seconds). Proxies do not pipeline; a browser does not either. Past it, the socket is closed.
MAX_PIPELINED = 32
# How long a refused client may take to read its answer and close before we abort the socket.
REFUSAL_LINGER_SECONDS = 1.0
# At MAX_CONNECTIONS, this many more sockets are let in for the health and metrics endpoints
# only: a liveness probe must not fail (and restart the process) because clients filled it.
PROBE_RESERVE = 16
PROBE_PATHS = frozenset({b"/healthz", b"/readyz", b"/metrics"})


def http_error(status: int, code: str, detail: str) -> bytes:
    """A complete `Connection: close` response with the hub's JSON error object."""
    body = orjson.dumps({"error": {"code": code, "detail": detail}})
    headers = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if status in (429, 503):
        headers.append("retry-after: 1")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


class GatedHttpProtocol(HttpToolsProtocol):
    """Counts the socket from accept, and bounds how long and how large a request head may be."""

    occupancy: ClassVar[Occupancy]
    probes: ClassVar[Occupancy]
    rates: ClassVar[RequestRates]
    handshake_timeout: ClassVar[float]
    max_head_bytes: ClassVar[int]
    max_body_bytes: ClassVar[int]

    @classmethod
    def configured(cls, settings: Settings) -> type[GatedHttpProtocol]:
        """A subclass bound to these settings and one process-wide count."""
        occupancy = Occupancy(
            settings.max_connections,
            settings.max_connections_per_address,
            Proxies(settings.forwarded_allow_ips),
        )
        attributes = {
            "occupancy": occupancy,
            "probes": Occupancy(PROBE_RESERVE, PROBE_RESERVE),
            "rates": RequestRates(settings.http_requests_per_second, settings.http_requests_burst),
            "handshake_timeout": settings.handshake_timeout_seconds,
            "max_head_bytes": settings.max_request_head_bytes,
            "max_body_bytes": settings.max_request_body_bytes,
        }
        return type("ConfiguredGatedHttpProtocol", (cls,), attributes)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address: str | None = None
        # Where this socket is counted: the occupancy, or (at capacity) the probes' reserve.
        self.ledger: Occupancy | None = None
        self.refused = False
        self.upgraded = False
        self.head_done = False
        self.head_bytes = 0
        self.body_bytes = 0
        self.header_lines = 0
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else None
        refusal = self.occupancy.enter(self.address)
        if refusal is None:
            self.ledger = self.occupancy
        elif refusal[0] == 503 and self.probes.enter(self.address) is None:
            # At capacity: in, but for a probe path only (see on_headers_complete).
            self.ledger = self.probes
        else:
            self.refuse(*refusal)
            return
        self._arm()

    def release(self) -> None:
        """The TCP connection is gone: it no longer counts (called once, from either protocol)."""
        if self.ledger is not None:
            self.ledger.leave(self.address)
            self.ledger = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.release()
        super().connection_lost(exc)

    def refuse(self, status: int, code: str, detail: str) -> None:
        """Answer and close, before or instead of the app; reads are discarded from now on."""
        self._disarm()
        self.refused = True
        REFUSALS.add(f"{status} {code}")
        if self.transport.is_closing():
            return
        self.transport.write(http_error(status, code, detail))
        # Half-close and keep reading (discarding) until the peer closes: closing with unread
        # input would send a reset that can destroy the answer before the client reads it.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        else:  # pragma: no cover - TLS transports cannot half-close
            self.transport.close()
        self.loop.call_later(REFUSAL_LINGER_SECONDS, self.transport.abort)

    def eof_received(self) -> None:
        if self.refused:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        super().data_received(data)
        if self.head_done or self.refused or self.upgraded or self.transport.is_closing():
            return
        # Still inside a request head: httptools keeps its URL and header pieces meanwhile.
        self.head_bytes += len(data)
        if self.head_bytes > self.max_head_bytes:
            limit = self.max_head_bytes
            self.refuse(431, "request_too_large", f"request line and headers over {limit} bytes")

    # Request framing: the deadline and the counters follow each request on the connection.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_done = False
        self.head_bytes = 0
        self.body_bytes = 0
        self.header_lines = 0
        self._arm()

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.head_done = True
        if len(self.pipeline) >= MAX_PIPELINED:
            # Earlier requests are still unanswered: an error now would answer the wrong one.
            REFUSALS.add("closed: pipelining")
            self.refused = True
            self.transport.close()
            return
        # The head as parsed, whatever the reads it came in: data_received counts only the reads
        # before the last one (to stop a head that never ends), so a head sent whole in one
        # write, up to a read's 64 KiB, would otherwise pass any smaller limit.
        head = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        self.head_bytes = head  # trailers, if any, count on from here (on_header)
        if head > self.max_head_bytes:
            limit = self.max_head_bytes
            self.refuse(431, "request_too_large", f"request line and headers over {limit} bytes")
            return
        if self.ledger is self.probes and self.url.split(b"?", 1)[0] not in PROBE_PATHS:
            self.refuse(503, "unavailable", "server is at capacity; retry later")
            return
        # Every request costs CPU, a refused one too, least when refused here (before the app).
        address = self.address or ""
        if not self.occupancy.exempt.trusted(self.address) and not self.rates.allow(address):
            self.refuse(429, "too_many_requests", "too many requests from this address")
            return
        length = next((value for name, value in self.headers if name == b"content-length"), None)
        # httptools has checked that it is a number; a long one is over any limit (and int()
        # of thousands of digits is refused by Python itself).
        if length is not None and (len(length) > 18 or int(length) > self.max_body_bytes):
            self.refuse(413, "body_too_large", f"request body over {self.max_body_bytes} bytes")
            return
        super().on_headers_complete()

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.refused:
            return
        self.header_lines += 1
        if self.header_lines > MAX_HEADER_LINES:  # refused before uvicorn keeps the next one
            self._abandon_cycle()
            self.refuse(431, "request_too_large", f"over {MAX_HEADER_LINES} header lines")
            return
        if self.head_done:
            # A chunked body's trailers: header lines after the body, which uvicorn adds to the
            # request's headers with no bound (200 MiB of them arrive in under a second).
            self.head_bytes += len(name) + len(value) + 4
            if self.head_bytes > self.max_head_bytes:
                limit = self.max_head_bytes
                self._abandon_cycle()
                self.refuse(431, "request_too_large", f"headers and trailers over {limit} bytes")
                return
        super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        if self.refused:
            return
        self.body_bytes += len(body)
        if self.body_bytes > self.max_body_bytes:  # chunked: no content-length to check first
            self._abandon_cycle()
            self.refuse(413, "body_too_large", f"request body over {self.max_body_bytes} bytes")
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self.refused:
            return
        self._disarm()
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete:
            # Answered before its request ended (a 401 to a chunked POST): uvicorn's keep-alive
            # timer ran at the answer and was cancelled by the rest of the request, so nothing
            # would ever close this idle socket. The deadline does, quietly (see _expired).
            self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.pipeline and not self.transport.is_closing():
            # uvicorn resumes reading after every answer; with requests still queued, the next
            # read would only queue more.
            self.flow.pause_reading()

    def handle_websocket_upgrade(self) -> None:
        if self.refused:
            # Refused in on_headers_complete (rate, size, capacity): httptools still reports the
            # upgrade, but uvicorn's request scope was never completed. The answer is sent.
            return
        self._disarm()
        self.upgraded = True
        super().handle_websocket_upgrade()
        # The WebSocket protocol owns the transport now; it releases our count when it closes.
        # It is handed its Place in the ledger, not this protocol: a bound method would keep the
        # whole HTTP protocol (its parser, its last request's headers) alive for the socket's
        # lifetime.
        protocol = self.transport.get_protocol()
        ledger, self.ledger = self.ledger, None
        if ledger is None:
            return
        if hasattr(protocol, "on_connection_lost"):
            protocol.on_connection_lost = Place(ledger, self.address)
        else:  # pragma: no cover - another WebSocket implementation: count no more
            ledger.leave(self.address)

    def _arm(self) -> None:
        if self.deadline is None:
            self.deadline = self.loop.call_later(self.handshake_timeout, self._expired)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_complete:
            # This request was answered already: a 408 would be a second answer to it.
            self.transport.close()
            return
        self._abandon_cycle()
        self.refuse(408, "request_timeout", f"request not complete in {self.handshake_timeout}s")

    def _abandon_cycle(self) -> None:
        """The app, if it runs, sees a disconnect and writes nothing more: the answer is ours."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # too late for our answer: only close
                self.transport.close()
            cycle.disconnected = True
            cycle.message_event.set()


__all__ = ["GatedHttpProtocol", "http_error"]
