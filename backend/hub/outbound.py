"""What goes out to a client: one payload shared by every recipient, and its frames."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import orjson

from backend.messages import Envelope

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


def payload(envelope: Envelope, text_mode: bool) -> Outgoing | None:
    """What `envelope` is on the wire: its bare text for a text-mode client (None for what text
    mode cannot show: an edit or a delete), the `message` object for a JSON-mode one. The one
    builder for live delivery and replays alike."""
    if text_mode:
        return Outgoing(envelope.text.encode()) if envelope.kind == "message" else None
    return Outgoing(orjson.dumps(envelope.as_message()))
