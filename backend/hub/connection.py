"""One client connection: its explicit state, its rooms, and the bounded queue that isolates it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from backend.closecodes import CloseCode
from backend.hub.outbound import Outgoing
from backend.hub.ratelimit import TokenBucket
from backend.hub.sinks import RawSink, Sink
from backend.identity import Sender

log = logging.getLogger("desafio.connection")


class State(Enum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Mode(StrEnum):
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class QueueLimits:
    messages: int
    bytes: int


class Connection:
    """A client as the hub sees it.

    `deliver` never awaits: while the socket is writable (and nothing is queued ahead) the frame
    is written at once; otherwise it is queued and a writer task drains the queue when the socket
    can take more. A queue over its limits means the client is not keeping up: it is closed with
    SLOW_CONSUMER and dropped, so it can hold back neither the hub nor the memory.
    """

    __slots__ = (
        "_closing", "_limits", "_on_slow", "_pending", "_pending_bytes", "_sink", "_writer",
        "bucket", "catching", "close_code", "id", "joins", "key", "mode", "observer", "opened",
        "quota_key", "rooms", "sender", "state", "strikes",
    )  # fmt: skip

    def __init__(
        self,
        cid: int,
        key: str,
        sender: Sender,
        mode: Mode,
        sink: Sink,
        limits: QueueLimits,
        bucket: TokenBucket,
        on_slow: Callable[[Connection], None],
        observer: bool = False,
    ) -> None:
        self.id = cid
        # Identifies the connection across instances, so the broker's copy is not echoed back.
        self.key = key
        # Who this is (server-decided); `name` is only how it is shown.
        self.sender = sender
        self.mode = mode
        # An observer (an admin's `?observe=1`, the dashboard) receives a room's messages but is
        # nobody's company: never announced, counted, listed in members, rosters or /stats.
        self.observer = observer
        # Whose stored-bytes quota its messages use (backend/hub/quota.py): its sender id, or
        # for a guest its address; set by the route that knows the address.
        self.quota_key = sender.id
        self.opened = time.monotonic()  # for the admin connection list's age
        self.rooms: set[str] = set()
        # Rooms being caught up (history or `since`): the fan-out skips this connection there,
        # and the replay reads the store up to what was fanned out, then hands over to live.
        self.catching: set[str] | None = None
        self.state = State.OPEN
        self.bucket = bucket
        # Joins and leaves it may still make (backend/session.py); made at its first one.
        self.joins: TokenBucket | None = None
        self.strikes = 0
        self.close_code: int | None = None
        self._sink = sink
        self._limits = limits
        # A list, not a deque: it is only ever drained whole, and an empty deque costs ~600
        # bytes more per connection, idle or not.
        self._pending: list[Outgoing] = []
        self._pending_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._on_slow = on_slow
        self._closing: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.mode.value} {self.state.value}>"

    @property
    def name(self) -> str:
        return self.sender.name

    @property
    def queued(self) -> int:
        return len(self._pending)

    def deliver(self, item: Outgoing) -> None:
        if self.state is not State.OPEN:
            return
        if not self._pending and self._sink.immediate and self._sink.writable():
            self._sink.write_one(item)
            return
        size = len(item.data)
        if (
            len(self._pending) >= self._limits.messages
            or self._pending_bytes + size > self._limits.bytes
        ):
            self._on_slow(self)
            self.close(CloseCode.SLOW_CONSUMER, "slow consumer: outbound queue overflowed")
            return
        self._pending.append(item)
        self._pending_bytes += size
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending and self.state is State.OPEN:
                batch, self._pending = self._pending, []
                self._pending_bytes = 0
                await self._sink.write_batch(batch, coalesce=self.mode is Mode.JSON)
        except Exception as exc:  # noqa: BLE001 - the peer vanished mid-write; the reader cleans up
            log.debug("connection %s writer stopped: %r", self.id, exc)
        finally:
            self._writer = None

    async def drained(self) -> None:
        """Wait until what was delivered so far has left for the socket (or the connection is
        closing): the back-pressure a replay pages under."""
        await asyncio.sleep(0)  # let this iteration's gathered writes go out first
        # A peer that went away never becomes writable; its receive loop is waiting for this
        # replay to end before it can notice the disconnect.
        while self.state is State.OPEN and not self._sink.gone():
            if self._writer is not None:
                await asyncio.wait({self._writer}, timeout=1.0)
            elif self._sink.immediate and not self._sink.writable():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._sink.wait_writable(), 1.0)
            else:
                return

    def flush_now(self) -> None:
        """Write everything queued, ignoring back-pressure (used once, at shutdown)."""
        if not isinstance(self._sink, RawSink):
            return
        self._sink.flush()
        if self._pending:
            self._sink.write_now(self._pending, coalesce=self.mode is Mode.JSON)
            self._pending.clear()
            self._pending_bytes = 0

    def close(self, code: int, reason: str) -> None:
        """Start closing: nothing more is delivered; the close frame goes out behind no backlog."""
        if self.state is not State.OPEN:
            return
        self.state = State.CLOSING
        self.close_code = code
        self._pending.clear()
        self._pending_bytes = 0
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self._closing = asyncio.get_running_loop().create_task(self._sink.close(code, reason))

    async def wait_closing(self) -> None:
        """Wait until the close frame is out (or the sink gave up on a peer that never reads)."""
        if self._closing is not None:
            await self._closing

    def closed(self) -> None:
        self.state = State.CLOSED
        self._pending.clear()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
