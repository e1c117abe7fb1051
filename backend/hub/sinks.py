"""The two ways of writing to a client: raw frames into the transport, or ASGI `send`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol

from starlette.types import Send

from backend.hub.outbound import Outgoing, join_json, text_frame


class FrameWriter(Protocol):
    """What a RawSink writes through: backend.native.NativeWebSocket."""

    def is_writable(self) -> bool: ...
    def is_gone(self) -> bool: ...
    async def wait_writable(self) -> None: ...
    def write_raw(self, data: bytes) -> None: ...
    def close_now(self, code: int, reason: str, timeout: float | None = None) -> None: ...


class Flusher:
    """Ends each event-loop iteration by writing what every connection was handed during it.

    During a burst the pump fans out many messages in one iteration; one `transport.write` per
    connection for all of them, instead of one per delivery, saves a system call per message
    and recipient (the profile of a 1,000-subscriber burst was 85% `send()`).
    """

    def __init__(self) -> None:
        self._dirty: list[RawSink] = []
        self._scheduled = False

    def mark(self, sink: RawSink) -> None:
        self._dirty.append(sink)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        dirty, self._dirty = self._dirty, []
        for sink in dirty:
            sink.flush()


class RawSink:
    """Writes pre-built frames straight into the socket (the native path of `python -m backend`).

    Deliveries made while the transport is writable are gathered until the iteration ends
    (see Flusher); JSON-mode ones are then coalesced into newline-joined frames.
    """

    immediate = True
    __slots__ = ("_burst", "_coalesce", "_flusher", "close_timeout", "protocol")

    def __init__(
        self,
        protocol: FrameWriter,
        close_timeout: float,
        flusher: Flusher,
        coalesce: bool,
    ) -> None:
        self.protocol = protocol
        self.close_timeout = close_timeout
        self._flusher = flusher
        self._coalesce = coalesce
        self._burst: list[Outgoing] = []

    def writable(self) -> bool:
        return self.protocol.is_writable()

    async def wait_writable(self) -> None:
        await self.protocol.wait_writable()

    def gone(self) -> bool:
        return self.protocol.is_gone()

    def write_one(self, item: Outgoing) -> None:
        if not self._burst:
            self._flusher.mark(self)
        self._burst.append(item)

    def flush(self) -> None:
        if self._burst:
            burst, self._burst = self._burst, []
            self.write_now(burst, self._coalesce)

    async def write_batch(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        await self.protocol.wait_writable()
        self.flush()  # what was gathered before the queue began goes first
        self.write_now(batch, coalesce)

    def write_now(self, batch: Sequence[Outgoing], coalesce: bool) -> None:
        if coalesce:
            data = b"".join(text_frame(payload) for payload in join_json(batch))
        elif len(batch) == 1:
            data = batch[0].frame
        else:
            data = b"".join(item.frame for item in batch)
        self.protocol.write_raw(data)

    async def close(self, code: int, reason: str) -> None:
        # Nothing may follow the close frame; what was gathered for this iteration is dropped.
        self._burst.clear()
        self.protocol.close_now(code, reason, self.close_timeout)


class AsgiSink:
    """Portable fallback: one ASGI `websocket.send` per frame (any ASGI server)."""

    immediate = False

    def __init__(self, send: Send, close_timeout: float) -> None:
        self.send = send
        self.close_timeout = close_timeout

    def writable(self) -> bool:
        return False

    async def wait_writable(self) -> None:
        return None  # pragma: no cover - never immediate, so never asked

    def gone(self) -> bool:
        return False  # its writes fail instead, and the receive loop sees the disconnect

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
