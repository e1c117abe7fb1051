"""A session's frames on the native path: handled in order, without a task while idle.

Most frames (publish, typing, ping) are handled synchronously inside `data_received`. A frame
that must wait (subscribe reads the log, unsubscribe leaves a room cluster-wide, edit, delete,
token refresh) runs in a task; reading pauses meanwhile, so the frames after it wait in the
socket and are handled, in order, when it is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from backend.session import Session

log = logging.getLogger("desafio.native")
# The tasks ending connections: the loop keeps only a weak reference to a task.
_ENDING: set[asyncio.Task[None]] = set()


class Reading(Protocol):
    """What the session's feed needs of the connection (backend.native.NativeWebSocket)."""

    @property
    def lost(self) -> bool: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def is_gone(self) -> bool: ...


class Inbound:
    """Feeds one connection's frames to its Session; ends it when the socket is gone."""

    __slots__ = ("_backlog", "_busy", "_end", "protocol", "session")

    def __init__(
        self,
        protocol: Reading,
        session: Session,
        end: Callable[[int | None], Awaitable[None]],
    ) -> None:
        self.protocol = protocol
        self.session = session
        self._end: Callable[[int | None], Awaitable[None]] | None = end
        self._busy: asyncio.Task[None] | None = None
        self._backlog: list[str] = []

    def text(self, text: str) -> None:
        if self._busy is not None:
            self._backlog.append(text)
            return
        try:
            pending = self.session.feed(text)
        except Exception as exc:  # noqa: BLE001 - Close or a bug: the session says which
            self.session.fail(exc)
            return
        if pending is not None:
            self.protocol.pause_reading()
            self._busy = asyncio.get_running_loop().create_task(self._finish(pending))

    async def _finish(self, pending: Awaitable[None]) -> None:
        try:
            await pending
            while self._backlog and not self.protocol.is_gone():
                pending_next = self.session.feed(self._backlog.pop(0))
                if pending_next is not None:
                    await pending_next
        except Exception as exc:  # noqa: BLE001 - Close or a bug: the session says which
            self.session.fail(exc)
        finally:
            self._busy = None
            self._backlog.clear()
            if not self.protocol.lost:
                self.protocol.resume_reading()

    def binary(self) -> None:
        try:
            self.session.on_binary()
        except Exception as exc:  # noqa: BLE001 - always Close
            self.session.fail(exc)

    def flush(self) -> None:
        """Shutdown: write what is queued for this client before the close frame."""
        self.session.conn.flush_now()

    def ended(self, code: int | None) -> None:
        """The socket is gone: the hub forgets the connection (once)."""
        end, self._end = self._end, None
        if end is not None:
            task = asyncio.get_running_loop().create_task(_run(end, code))
            _ENDING.add(task)
            task.add_done_callback(_ENDING.discard)


async def _run(end: Callable[[int | None], Awaitable[None]], code: int | None) -> None:
    try:
        await end(code)
    except Exception:
        log.exception("ending a connection failed")
