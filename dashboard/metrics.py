"""The backend's `/metrics` (Prometheus text) as the figures the dashboard's panels plot.

Counters and histograms only mean something as a change: each figure is derived from two
scrapes (the interval between them), so a latency percentile is that of the last interval,
not of the process's whole life. A counter that went down means the backend restarted: the
current value is then the change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger("desafio.dashboard.metrics")

Labels = tuple[tuple[str, str], ...]
# name -> labels -> value; histogram buckets keep their `le` label.
Samples = dict[str, dict[Labels, float]]


@dataclass(frozen=True, slots=True)
class Scrape:
    at: float
    samples: Samples


@dataclass(frozen=True, slots=True)
class Figures:
    """What one interval between two scrapes says; None where it says nothing (no events)."""

    values: Mapping[str, float | None]
    errors_total: Mapping[str, float] = field(default_factory=dict)  # code -> since start
    closes_total: Mapping[str, float] = field(default_factory=dict)  # close code -> total


def parse_metrics(text: str, at: float) -> Scrape:
    """Prometheus text into samples; raises ValueError on text that is not the format."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = float(sample.value)
    return Scrape(at, samples)


def fetch_metrics(client: httpx.Client, backend_url: str, at: float) -> Scrape:
    response = client.get(backend_url + "/metrics")
    response.raise_for_status()
    return parse_metrics(response.text, at)


def _total(scrape: Scrape, name: str) -> float:
    return sum(scrape.samples.get(name, {}).values())


def _by_label(scrape: Scrape, name: str, label: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for labels, value in scrape.samples.get(name, {}).items():
        key = dict(labels).get(label, "")
        found[key] = found.get(key, 0.0) + value
    return found


def _delta(now: float, before: float) -> float:
    return now - before if now >= before else now  # a restart counts from zero again


def _buckets(scrape: Scrape, name: str) -> dict[float, float]:
    found: dict[float, float] = {}
    for labels, value in scrape.samples.get(name + "_bucket", {}).items():
        found[float(dict(labels)["le"])] = value
    return found


def percentile(buckets: Mapping[float, float], q: float) -> float | None:
    """The q-quantile (0-1) of cumulative histogram buckets, interpolated as Prometheus's
    histogram_quantile does; None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound is all we know
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def _interval_buckets(now: Scrape, before: Scrape, name: str) -> dict[float, float]:
    current, previous = _buckets(now, name), _buckets(before, name)
    restarted = any(current.get(le, 0.0) < value for le, value in previous.items())
    if restarted:
        return current
    return {le: value - previous.get(le, 0.0) for le, value in current.items()}


def derive(now: Scrape, before: Scrape | None) -> Figures:
    """The figures of the interval from `before` to `now` (gauges: as of `now`)."""
    values: dict[str, float | None] = {
        "outbound queued": _total(now, "desafio_outbound_queued"),
        "longest queue": _total(now, "desafio_outbound_queue_max"),
        "broker backlog": _total(now, "desafio_broker_backlog"),
        "redis up": _total(now, "desafio_broker_up")
        if "desafio_broker_up" in now.samples
        else None,
    }
    if before is not None and now.at > before.at:
        span = now.at - before.at
        for key, name in (
            ("slow consumers/min", "desafio_slow_consumer_disconnects_total"),
            ("store failures/min", "desafio_store_write_failures_total"),
            ("errors/min", "desafio_errors_total"),
        ):
            values[key] = 60 * _delta(_total(now, name), _total(before, name)) / span
        delivery = _interval_buckets(now, before, "desafio_delivery_seconds")
        for q in (0.5, 0.95, 0.99):
            found = percentile(delivery, q)
            values[f"delivery p{round(q * 100)} ms"] = None if found is None else found * 1000
        store = _interval_buckets(now, before, "desafio_store_write_seconds")
        found = percentile(store, 0.99)
        values["store write p99 ms"] = None if found is None else found * 1000
    return Figures(
        values=values,
        errors_total=_by_label(now, "desafio_errors_total", "code"),
        closes_total=_by_label(now, "desafio_server_closes_total", "code"),
    )


class MetricsReader:
    """Scrapes `/metrics` and derives each interval's figures from the scrape before."""

    def __init__(self, http: httpx.Client, backend_url: str) -> None:
        self._http = http
        self._url = backend_url
        self._last: Scrape | None = None

    def read(self, at: float) -> Figures | None:
        """The figures since the last scrape; None when `/metrics` does not answer well."""
        try:
            scrape = fetch_metrics(self._http, self._url, at)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("/metrics unavailable: %s", type(exc).__name__)
            return None
        figures = derive(scrape, self._last)
        self._last = scrape
        return figures
