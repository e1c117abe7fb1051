"""The fan-out: one message to every member of its room, serialized once, never awaiting anyone."""

from __future__ import annotations

import time
from collections.abc import Iterable

from backend.hub.connection import Connection, Mode
from backend.hub.outbound import Outgoing, payload
from backend.messages import Envelope
from backend.metrics import Metrics


def fan_out(
    envelope: Envelope, members: Iterable[Connection], author: Connection | None, metrics: Metrics
) -> None:
    """Hand `envelope` to each member but its author.

    The payload is built at most once per mode and shared: a text member gets the plain text, a
    JSON member the `message` object. `deliver` writes or queues without awaiting, so a member
    that stopped reading costs the others nothing. A member catching up on the room (`since`,
    history) is skipped: its replay reads up to this id from the store.
    """
    started = time.perf_counter()
    # Built at most once per mode, on the first member that needs it.
    built: dict[bool, Outgoing | None] = {}
    delivered = 0
    for conn in members:
        if conn is author:
            continue
        if conn.catching is not None and envelope.room in conn.catching:
            continue  # its replay reads this one from the store
        text_mode = conn.mode is Mode.TEXT
        if text_mode not in built:
            built[text_mode] = payload(envelope, text_mode)
        item = built[text_mode]
        if item is None:
            continue  # text mode cannot show an edit or a delete
        conn.deliver(item)
        delivered += 1
    metrics.deliveries.inc(delivered)
    metrics.fanout_seconds.observe(time.perf_counter() - started)
