"""Keepalive pings for every native connection, from one timer for the whole server.

A timer per connection would cost each idle socket a handle and a callback; one walk over the
server's connections every tick costs nothing between ticks. A connection that has not answered
its ping within WS_PING_TIMEOUT is closed with 1011, as the websockets library does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Keepalive:
    """Pings each established connection every `interval` seconds (0: never)."""

    def __init__(self, interval: float, timeout: float) -> None:
        self.interval = interval
        self.timeout = timeout
        self.tick = min(interval, timeout) if timeout > 0 else interval
        self._connections: set[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, connections: set[Any]) -> None:
        """Start ticking over uvicorn's set of connections (on the first one)."""
        if self.interval <= 0 or self._handle is not None:
            return
        self._connections = connections
        self._handle = asyncio.get_running_loop().call_later(self.tick, self._run)

    def _run(self) -> None:
        assert self._connections is not None
        now = time.monotonic()
        for conn in list(self._connections):
            ping = getattr(conn, "keepalive", None)
            if ping is not None:
                ping(now, self.interval, self.timeout)
        if self._connections:
            self._handle = asyncio.get_running_loop().call_later(self.tick, self._run)
        else:
            self._handle = None  # idle server: the next connection starts it again


__all__ = ["Keepalive"]
