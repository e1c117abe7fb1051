"""The figures the dashboard's panels read from `/metrics`: delivery latency, storage writes,
outbound queues and the broker's health."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def scrape(server: ServerProcess) -> dict[str, float]:
    """Every sample of `/metrics` by name and labels, e.g. `desafio_broker_up` or
    `desafio_store_write_failures_total{code=invalid_data}`."""
    samples: dict[str, float] = {}
    text = httpx.get(server.http + "/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_delivery_and_store_write_latencies_are_histograms(server: ServerProcess) -> None:
    before = scrape(server)
    reader = JsonClient(server.ws, "room=latency")
    reader.next_of("subscribed")
    author = JsonClient(server.ws, "room=latency")
    author.next_of("subscribed")
    for n in range(5):
        author.send(type="publish", room="latency", text=f"m{n}", ref=f"lat-{n}")
    for _ in range(5):
        author.next_of("ack")
        reader.next_of("message")
    after = scrape(server)
    for name in ("desafio_delivery_seconds_count", "desafio_store_write_seconds_count"):
        assert after[name] - before.get(name, 0.0) >= 5, name
    # Every observation is in the +Inf bucket, and a local delivery takes well under 10 s.
    assert (
        after["desafio_delivery_seconds_bucket{le=10.0}"] == after["desafio_delivery_seconds_count"]
    )


def test_queues_and_broker_health_are_gauges(server: ServerProcess) -> None:
    figures = scrape(server)
    assert figures["desafio_broker_up"] == 1.0
    assert figures["desafio_outbound_queued"] >= 0
    assert figures["desafio_outbound_queue_max"] >= 0
    assert figures["desafio_broker_backlog"] >= 0


def test_stats_list_rooms_that_only_publishers_use(server: ServerProcess) -> None:
    author = JsonClient(server.ws, "name=bot")
    author.send(type="publish", room="announcements", text="nobody listens", ref="p1")
    author.next_of("ack")
    room = httpx.get(server.http + "/stats", timeout=5).json()["rooms"]["announcements"]
    assert (room["connections"], room["messages"]) == (0, 1)
    assert room["last_message_at"] is not None
