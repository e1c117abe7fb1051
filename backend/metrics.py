"""Prometheus metrics. WebSocket traffic never passes the HTTP middlewares, so the hub counts it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
