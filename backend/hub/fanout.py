"""The fan-out: one message to every member of its room, serialized once, never awaiting anyone."""

from __future__ import annotations

import time
from collections.abc import Iterable

import orjson

from backend.hub.connection import Connection, Mode
from backend.hub.outbound import Outgoing
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
    as_text: Outgoing | None = None
    as_json: Outgoing | None = None
    delivered = 0
    for conn in members:
        if conn is author:
            continue
        if conn.catching is not None and envelope.room in conn.catching:
            continue  # its replay reads this one from the store
        if conn.mode is Mode.TEXT:
            if envelope.kind != "message":
                continue  # text mode cannot show an edit or a delete
            if as_text is None:
                as_text = Outgoing(envelope.text.encode())
            conn.deliver(as_text)
        else:
            if as_json is None:
                as_json = Outgoing(orjson.dumps(envelope.as_message()))
            conn.deliver(as_json)
        delivered += 1
    metrics.deliveries.inc(delivered)
    metrics.fanout_seconds.observe(time.perf_counter() - started)
