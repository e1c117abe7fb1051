"""Publishing: idempotency by ref, ids that continue the stored history, durability before ack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backend.broker import Broker, Draft, Envelope
from backend.config import Settings
from backend.hub.refs import RecentRefs
from backend.storage import Store

if TYPE_CHECKING:
    from backend.hub.connection import Connection

log = logging.getLogger("desafio.hub")


class Publisher:
    def __init__(self, settings: Settings, broker: Broker, store: Store) -> None:
        self.broker = broker
        self.store = store
        # The newest stored id per room, read once: new ids continue after it.
        self.floors: dict[str, int] = {}
        self.refs = RecentRefs(settings.idempotency_window_seconds, settings.idempotency_max_refs)
        # Told of every message once it is stored, on the instance that published it (Web Push,
        # backend/push). Each must return at once and never raise.
        self.listeners: list[Callable[[Envelope], None]] = []

    async def publish(
        self,
        conn: Connection,
        room: str,
        text: str,
        data: dict[str, Any] | None,
        ref: str | None,
    ) -> asyncio.Future[Envelope]:
        """Sequence a message (its fan-out follows at once) and return its durability.

        The future completes with the envelope once the message is committed, or fails with
        StorageError; the caller acknowledges from it without holding up its next frame. A
        (sender, ref) seen within the idempotency window gets the first publish's future.
        """
        key = (conn.name, room, ref) if ref is not None else None
        if key is not None and (earlier := self.refs.get(key)) is not None:
            return earlier
        outcome: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        if key is not None:
            self.refs.remember(key, outcome)
        try:
            envelope = await self._sequence(conn, room, text, data)
        except BaseException:
            if key is not None:
                self.refs.forget(key)
            raise

        def settle(stored: asyncio.Future[None]) -> None:
            error = stored.exception()
            if error is None:
                outcome.set_result(envelope)
                self._tell_listeners(envelope)
                return
            if key is not None:
                self.refs.forget(key)  # so that a retry with this ref really retries
            outcome.set_exception(error)

        self.store.append(envelope).add_done_callback(settle)
        return outcome

    def _tell_listeners(self, envelope: Envelope) -> None:
        for listener in self.listeners:
            try:
                listener(envelope)
            except Exception:  # a listener's bug must not cost the author an ack
                log.exception("publish listener failed for message %s", envelope.id)

    async def _sequence(
        self, conn: Connection, room: str, text: str, data: dict[str, Any] | None
    ) -> Envelope:
        floor = self.floors.get(room)
        if floor is None:
            bounds = await self.store.bounds(room)
            floor = self.floors[room] = bounds[1] if bounds else 0
        draft = Draft(room, conn.name, text, data, origin=conn.key, floor=floor)
        return await self.broker.publish(draft)
