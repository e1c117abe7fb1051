"""A minimal WebSocket client for load generation: cheap enough not to be the bottleneck.

Receivers never decode frames one by one. Every bench payload carries a marker `@@` and a
16-digit `time.monotonic_ns()` send time; one C-level regex pass over each TCP chunk counts the
messages (JSON frames may hold several objects) and yields their timestamps. Keepalive pings are
off in every server the bench runs, so no control frame needs answering.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import time
from array import array
from dataclasses import dataclass, field
from typing import cast

MARK = re.compile(rb"@@(\d{16})")
MARK_LEN = 18


def stamp(now_ns: int) -> bytes:
    return b"@@%016d" % now_ns


def client_frame(payload: bytes) -> bytes:
    """A masked text frame. The all-zero mask key is legal and makes masking a no-op."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + b"\0\0\0\0" + payload


@dataclass
class Tally:
    """What one group of receivers (e.g. "healthy", "slow") got since the last reset."""

    count: int = 0
    first_ns: int = 0
    last_ns: int = 0
    record: bool = False
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))

    def reset(self, record: bool) -> None:
        self.count, self.first_ns, self.last_ns, self.record = 0, 0, 0, record
        self.latencies_ns = array("q")


class Client(asyncio.Protocol):
    """One connection: handshake, then count marked messages into its tally."""

    def __init__(self, host: str, port: int, path: str, tally: Tally) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"
            "\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.tally = tally
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed_ns = 0
        self.transport: asyncio.Transport | None = None
        self._head = b""
        self._tail = b""
        self._can_write = asyncio.Event()
        self._can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.open.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._head.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(ConnectionError(self._head[:40].decode(errors="replace")))
                return
            self.open.set_result(None)
            data, self._head = self._head[end + 4 :], b""
        now = time.monotonic_ns()
        buf = self._tail + data if self._tail else data
        hits = MARK.findall(buf)
        # Keep an unfinished marker at the end for the next chunk (a finished one never repeats).
        cut = buf.find(b"@", max(0, len(buf) - MARK_LEN + 1))
        done = MARK.match(buf, max(0, len(buf) - MARK_LEN)) is not None
        self._tail = buf[cut:] if cut >= 0 and not done else b""
        if hits:
            tally = self.tally
            tally.count += len(hits)
            tally.first_ns = tally.first_ns or now
            tally.last_ns = now
            if tally.record:
                tally.latencies_ns.extend([now - int(ts) for ts in hits])

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_ns = time.monotonic_ns()
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during handshake"))
        self._can_write.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    async def send(self, frames: bytes, timeout: float = 60.0) -> bool:
        """Write, then wait while the transport is over its high-water mark (back-to-back).

        False if the server has not read for `timeout` seconds (a server stalled by one slow
        client stops reading the publisher too): the caller stops instead of hanging.
        """
        assert self.transport is not None
        if self.transport.is_closing():
            raise ConnectionError("publisher connection closed")
        self.transport.write(frames)
        try:
            await asyncio.wait_for(self._can_write.wait(), max(timeout, 0.001))
        except TimeoutError:
            return False
        return True


async def connect(
    host: str, port: int, path: str, tally: Tally, rcvbuf: int | None = None
) -> Client:
    loop = asyncio.get_running_loop()
    if rcvbuf is None:
        _, client = await loop.create_connection(
            lambda: Client(host, port, path, tally), host, port
        )
    else:
        import socket

        sock = socket.socket()
        # A small receive buffer makes a reader that stops reading show up quickly at the server.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        _, client = await loop.create_connection(lambda: Client(host, port, path, tally), sock=sock)
    await asyncio.wait_for(client.open, 30)
    return client
