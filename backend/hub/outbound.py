"""What goes out to a client, and the two ways of writing it: raw frames or ASGI `send`."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Sequence

from starlette.types import Send

from backend.transport import HubWebSocketProtocol

# A JSON-mode backlog is coalesced into frames of at most this size (one object larger than this
# goes alone): big enough to amortise framing, small enough for clients with a 1 MiB frame limit.
COALESCE_BYTES = 64 * 1024


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 §5.2): what a server sends."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class Outgoing:
    """One payload (UTF-8), shared by every recipient; its frame is built once, on first need."""

    __slots__ = ("data", "_frame")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.data)
        return self._frame


def join_json(batch: Sequence[Outgoing]) -> list[bytes]:
    """JSON-mode payloads for a backlog: objects joined by '\\n', at most COALESCE_BYTES each."""
    payloads: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for item in batch:
        if chunk and size + len(item.data) + 1 > COALESCE_BYTES:
            payloads.append(b"\n".join(chunk))
            chunk, size = [], 0
        chunk.append(item.data)
        size += len(item.data) + 1
    if chunk:
        payloads.append(b"\n".join(chunk))
    return payloads


class RawSink:
    """Writes pre-built frames straight into the transport (server run by `python -m backend`)."""

    immediate = True

    def __init__(self, protocol: HubWebSocketProtocol, close_timeout: float) -> None:
        self.protocol = protocol
        self.close_timeout = close_timeout

    def writable(self) -> bool:
        return self.protocol.is_writable()

    def write_one(self, item: Outgoing) -> None:
        self.protocol.write_raw(item.frame)

    async def write_batch(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        await self.protocol.wait_writable()
        self.write_now(batch, coalesce)

    def write_now(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        if coalesce:
            data = b"".join(text_frame(payload) for payload in join_json(batch))
        else:
            data = b"".join(item.frame for item in batch)
        self.protocol.write_raw(data)

    async def close(self, code: int, reason: str) -> None:
        self.protocol.close_now(code, reason, self.close_timeout)


class AsgiSink:
    """Portable fallback: one ASGI `websocket.send` per frame (any ASGI server)."""

    immediate = False

    def __init__(self, send: Send, close_timeout: float) -> None:
        self.send = send
        self.close_timeout = close_timeout

    def writable(self) -> bool:
        return False

    def write_one(self, item: Outgoing) -> None:  # pragma: no cover - never writable
        raise RuntimeError("AsgiSink writes only through write_batch")

    async def write_batch(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        payloads = join_json(batch) if coalesce else [item.data for item in batch]
        for payload in payloads:
            await self.send({"type": "websocket.send", "text": payload.decode()})

    async def close(self, code: int, reason: str) -> None:
        # A peer that stopped reading blocks the send forever: give up after the timeout. The
        # connection is CLOSING, so nothing more is queued for it; it leaves the hub when its
        # receive loop ends (the peer goes away or answers). The fast path aborts instead.
        # A dead peer may fail the close in many ways; it is gone either way.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.send({"type": "websocket.close", "code": code, "reason": reason}),
                self.close_timeout,
            )


Sink = RawSink | AsgiSink
