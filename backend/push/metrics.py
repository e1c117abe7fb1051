"""Web Push counters, registered on the app's registry (so /metrics shows them)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class PushMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.sent = Counter("desafio_push_sent", "Pushes a push service accepted (2xx)", registry=r)
        self.dropped = Counter(
            "desafio_push_dropped",
            "Pushes not sent: queue_full, backlog, rate_capped, gave_up (retries exhausted)",
            ["reason"],
            registry=r,
        )
        self.skipped_online = Counter(
            "desafio_push_skipped_online",
            "Followers not pushed because they had a live connection",
            registry=r,
        )
        self.failures = Counter(
            "desafio_push_failures",
            "Failed push requests: gone (404/410, deleted), retry (5xx/429/network), rejected",
            ["kind"],
            registry=r,
        )
        self.queued = Gauge(
            "desafio_push_queue", "Messages waiting to be considered for push", registry=r
        )
