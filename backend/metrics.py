"""Prometheus metrics. WebSocket traffic never passes the HTTP middlewares, so the hub counts it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per app, so that several apps (tests, instances) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "desafio_connections", "Open WebSocket connections", ["mode"], registry=r
        )
        self.rooms = Gauge("desafio_rooms", "Rooms with at least one member here", registry=r)
        self.messages_in = Counter(
            "desafio_messages_in", "Messages published by clients of this instance", ["mode"],
            registry=r,
        )  # fmt: skip
        self.deliveries = Counter(
            "desafio_deliveries", "Messages handed to recipients' connections", registry=r
        )
        self.slow_consumers = Counter(
            "desafio_slow_consumer_disconnects",
            "Connections closed because their outbound queue overflowed",
            registry=r,
        )
        self.errors = Counter(
            "desafio_errors", "error objects sent to clients, by code", ["code"], registry=r
        )
        # Which layer serves /ws: "native" under `python -m backend`, "asgi" under any other
        # ASGI server (the plain uvicorn command). A test asserts the product runs native.
        self.ws_paths = Counter(
            "desafio_ws_sessions", "WebSocket sessions opened, by the layer serving them",
            ["path"], registry=r,
        )  # fmt: skip
        self.closes = Counter(
            "desafio_server_closes", "Connections closed by the server, by close code", ["code"],
            registry=r,
        )  # fmt: skip
        self.fanout_seconds = Histogram(
            "desafio_fanout_seconds",
            "Time to hand one message to every local recipient",
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
            registry=r,
        )
        # What the dashboard's latency, storage and queue panels read (docs/operations.md).
        self.delivery_seconds = Histogram(
            "desafio_delivery_seconds",
            "From a message's commit (its ts) to its hand-off to local recipients",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_write_seconds = Histogram(
            "desafio_store_write_seconds",
            "From a publish to the store's answer (stored or failed)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_failures = Counter(
            "desafio_store_write_failures", "Publishes the store failed, by code", ["code"],
            registry=r,
        )  # fmt: skip
        self.outbound_queued = Gauge(
            "desafio_outbound_queued", "Frames queued for slow readers, all connections",
            registry=r,
        )  # fmt: skip
        self.outbound_queue_max = Gauge(
            "desafio_outbound_queue_max", "The longest outbound queue of any connection",
            registry=r,
        )  # fmt: skip
        self.broker_backlog = Gauge(
            "desafio_broker_backlog", "Committed messages not yet taken by the fan-out", registry=r
        )
        self.broker_up = Gauge(
            "desafio_broker_up", "1 while the broker (Redis in a cluster) answers", registry=r
        )

    def watch(
        self,
        queues: Callable[[], Iterable[int]],
        backlog: Callable[[], int],
        available: Callable[[], bool],
    ) -> None:
        """Gauges read at scrape time: nothing is counted on the hot path for them."""
        self.outbound_queued.set_function(lambda: sum(queues()))
        self.outbound_queue_max.set_function(lambda: max(queues(), default=0))
        self.broker_backlog.set_function(backlog)
        self.broker_up.set_function(lambda: 1.0 if available() else 0.0)

    def time_store_write(self, outcome: asyncio.Future[Any]) -> None:
        """Observe how long the store takes to answer `outcome`, and count its failures."""
        started = time.perf_counter()

        def done(future: asyncio.Future[Any]) -> None:
            self.store_write_seconds.observe(time.perf_counter() - started)
            if future.cancelled():
                self.store_failures.labels("cancelled").inc()
            elif (exc := future.exception()) is not None:
                self.store_failures.labels(str(getattr(exc, "code", "error"))).inc()

        outcome.add_done_callback(done)

    def delivered(self, ts: str) -> None:
        """A message committed at `ts` (ISO-8601 UTC) is being handed to its recipients now."""
        try:
            committed = datetime.fromisoformat(ts).timestamp()
        except ValueError:
            return
        # Clocks of two instances may differ a little: a negative age counts as none.
        self.delivery_seconds.observe(max(0.0, time.time() - committed))
