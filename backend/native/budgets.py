"""What one socket may cost: control frames, inbound bytes, unread outbound bytes, message size.

The limits are the server's (Settings, docs/security.md#budgets); `SocketBudgets.for_socket` gives
each connection its own small ledger. A fragmented message is assembled here too, since its size
is a budget: websockets refuses one over the limit (1009) before it is buffered whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from websockets.frames import Frame, Opcode

from backend.budgets import Bucket, Tally
from backend.config import Settings

log = logging.getLogger("desafio.native")


@dataclass(frozen=True)
class SocketBudgets:
    """The limits every native connection shares."""

    max_message_bytes: int
    max_unread_bytes: int
    close_timeout: float
    control_rate: float
    control_burst: int
    inbound_rate: int
    inbound_burst: int
    closes: Tally = field(default_factory=lambda: Tally(log), compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SocketBudgets:
        return cls(
            max_message_bytes=settings.max_message_bytes,
            max_unread_bytes=settings.outbound_queue_bytes,
            close_timeout=settings.close_timeout,
            control_rate=settings.control_frames_per_second,
            control_burst=settings.control_frames_burst,
            inbound_rate=settings.inbound_bytes_per_second,
            inbound_burst=settings.inbound_bytes_burst,
        )

    def for_socket(self) -> SocketBudget:
        return SocketBudget(self)

    def tally(self, code: int, reason: str) -> None:
        """One more connection closed for abuse (logged as a periodic summary)."""
        self.closes.add(f"{code} {reason}")


class SocketBudget:
    """One connection's ledger, and the message it is assembling from fragments."""

    __slots__ = (
        "_control", "_inbound", "abandoned", "fragments", "held", "limits", "opcode", "throttled",
    )  # fmt: skip

    def __init__(self, limits: SocketBudgets) -> None:
        self.limits = limits
        # Made when first needed: an idle connection has sent nothing, and most never ping.
        self._control: Bucket | None = None
        self._inbound: Bucket | None = None
        # Reading is paused: the inbound budget is spent (throttled), or the session is busy
        # with a frame that awaits (held).
        self.throttled = False
        self.held = False
        # Closed for abuse: input is discarded unparsed until the socket is aborted.
        self.abandoned = False
        self.fragments: bytearray | None = None
        self.opcode = Opcode.TEXT

    @property
    def control(self) -> Bucket:
        if self._control is None:
            self._control = Bucket(self.limits.control_rate, self.limits.control_burst)
        return self._control

    @property
    def inbound(self) -> Bucket:
        if self._inbound is None:
            self._inbound = Bucket(self.limits.inbound_rate, self.limits.inbound_burst)
        return self._inbound

    def assemble(self, frame: Frame) -> tuple[Opcode, bytes] | None:
        """The whole message this frame completes, or None while fragments are still coming
        (websockets has checked their order and their total size)."""
        if frame.opcode is Opcode.CONT:
            assert self.fragments is not None
            # One buffer, not a list of pieces: 64 KiB sent as 2-byte fragments held ~1.8 MB
            # of bytes objects, and empty fragments grew a list without end.
            self.fragments += frame.data
            if not frame.fin:
                return None
            data, self.fragments = bytes(self.fragments), None
            return self.opcode, data
        if not frame.fin:
            self.opcode = frame.opcode
            self.fragments = bytearray(frame.data)
            return None
        return frame.opcode, bytes(frame.data)
