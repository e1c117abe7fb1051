"""/metrics read as the panels' figures: percentiles of the last interval, rates, gauges."""

from __future__ import annotations

import math

import httpx

from dashboard.metrics import derive, fetch_metrics, parse_metrics, percentile
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def text(delivered: dict[str, int], errors: int, slow: int, up: int = 1) -> str:
    buckets = "".join(
        f'desafio_delivery_seconds_bucket{{le="{le}"}} {n}\n' for le, n in delivered.items()
    )
    count = delivered["+Inf"]
    return (
        "# TYPE desafio_delivery_seconds histogram\n"
        f"{buckets}desafio_delivery_seconds_count {count}\n"
        "desafio_delivery_seconds_sum 1.0\n"
        "# TYPE desafio_errors counter\n"
        f'desafio_errors_total{{code="rate_limited"}} {errors}\n'
        "# TYPE desafio_slow_consumer_disconnects counter\n"
        f"desafio_slow_consumer_disconnects_total {slow}\n"
        "# TYPE desafio_broker_up gauge\n"
        f"desafio_broker_up {up}\n"
    )


def test_percentiles_interpolate_within_buckets_like_prometheus() -> None:
    buckets = {0.01: 50.0, 0.1: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert percentile(buckets, 0.5) == 0.01
    assert math.isclose(percentile(buckets, 0.7) or 0, 0.055)
    assert percentile({0.01: 0.0, math.inf: 0.0}, 0.99) is None


def test_figures_are_those_of_the_interval_between_two_scrapes() -> None:
    before = parse_metrics(text({"0.01": 100, "0.1": 100, "+Inf": 100}, 5, 0), at=100.0)
    now = parse_metrics(text({"0.01": 100, "0.1": 200, "+Inf": 200}, 35, 1), at=110.0)
    figures = derive(now, before)
    # The 100 new deliveries all took 10-100 ms: the old, fast ones do not count.
    assert 10 < (figures.values["delivery p50 ms"] or 0) <= 100
    assert figures.values["errors/min"] == 180.0  # 30 in 10 s
    assert figures.values["slow consumers/min"] == 6.0
    assert figures.values["redis up"] == 1.0
    assert figures.errors_total == {"rate_limited": 35.0}


def test_a_restarted_backend_counts_from_zero_without_negative_rates() -> None:
    before = parse_metrics(text({"0.01": 500, "+Inf": 500}, 90, 3), at=0.0)
    now = parse_metrics(text({"0.01": 4, "+Inf": 4}, 6, 0), at=60.0)
    figures = derive(now, before)
    assert figures.values["errors/min"] == 6.0
    assert figures.values["slow consumers/min"] == 0.0
    assert figures.values["delivery p99 ms"] is not None


def test_the_real_backend_reports_delivery_latency(server: ServerProcess) -> None:
    with httpx.Client() as http:
        before = fetch_metrics(http, server.http, 0.0)
        reader = JsonClient(server.ws, "room=panel")
        reader.next_of("subscribed")
        JsonClient(server.ws).send(type="publish", room="panel", text="timed")
        reader.next_of("message")
        now = fetch_metrics(http, server.http, 1.0)
    figures = derive(now, before)
    assert figures.values["delivery p99 ms"] is not None
    assert figures.values["redis up"] == 1.0
