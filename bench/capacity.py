"""Scenarios about holding up: one slow reader among healthy ones, idle connections, and the
feature scenarios (storage, scale-out) that run only when the server has the feature."""

from __future__ import annotations

import time
from typing import Any

from bench.peers import Server, server_holds
from bench.pool import LoadGen
from bench.scenarios import PUBLISHER, ROOM, Scale, Usage, percentiles, prepare, tallies

SLOW_RCVBUF = 4096  # bytes; the slow reader's socket buffer, so its stall shows up at once


def slow_reader(server: Server, lg: LoadGen, scale: Scale) -> dict[str, Any]:
    """N-1 healthy readers and one that stops reading, under a steady publisher (text mode)."""
    healthy = scale.slow_subscribers - 1
    prepare(lg, server, healthy, json_mode=False)
    lg.call(1, "connect", server.port, server.path(ROOM, False), 1, "slow", SLOW_RCVBUF)
    lg.call(1, "pause", "slow")
    (slow_port,) = lg.call(1, "ports", "slow")
    lg.call_all("reset", True)
    base = peak = server.rss()
    usage = Usage(server, lg)
    started = time.monotonic_ns()
    lg.send(PUBLISHER, "steady", scale.slow_rate, scale.slow_seconds, False, ROOM, scale.slow_size)
    closed_ns = 0
    deadline = time.monotonic() + scale.slow_seconds + scale.close_wait
    sent: dict[str, int] | None = None
    # Sample memory while publishing, then keep watching until the slow reader is dropped.
    while time.monotonic() < deadline and (sent is None or not closed_ns):
        peak = max(peak, server.rss())
        if sent is None and lg.pipes[PUBLISHER].poll(0.1):
            sent = lg.result(PUBLISHER)
        if not closed_ns and not server_holds(server.port, slow_port):
            closed_ns = time.monotonic_ns()
        if sent is None:
            continue
        time.sleep(0.1)
    if sent is None:
        sent = lg.result(PUBLISHER, 60)
    cpu = usage.done()
    time.sleep(0.5)  # let the last healthy deliveries land
    got = tallies(lg, latencies=True)
    lg.call_all("close")
    expected = healthy * sent["sent"]
    h = got.get("sub", {"count": 0, "lat": []})
    return {
        "healthy": healthy,
        "rate": scale.slow_rate,
        "payload_bytes": scale.slow_size,
        "seconds": scale.slow_seconds,
        "healthy_delivered_ratio": round(h["count"] / expected, 4) if expected else None,
        **{"healthy_" + k: v for k, v in percentiles(h["lat"]).items()},
        "rss_growth_mib": round((peak - base) / 2**20, 1),
        "slow_closed_after_s": round((closed_ns - started) / 1e9, 2) if closed_ns else None,
        **cpu,
    }


def idle(server: Server, lg: LoadGen, scale: Scale) -> list[dict[str, Any]]:
    """Memory per idle connection and connect rate, at growing connection counts (text mode)."""
    time.sleep(0.5)
    base = server.rss()
    rows, opened = [], 0
    for target in scale.idle:
        started = time.monotonic()
        workers = range(1, len(lg.pipes))
        add = target - opened
        for i, w in enumerate(workers):
            share = add // len(workers) + (1 if i < add % len(workers) else 0)
            lg.send(w, "connect", server.port, server.path("idle", False), share, "idle")
        got = sum(lg.result(w, 300)["opened"] for w in workers)
        seconds = time.monotonic() - started
        opened += got
        time.sleep(1.0)  # let allocations settle before reading RSS
        rows.append({
            "connections": opened,
            "failed": add - got,
            "connect_per_second": round(got / seconds),
            "rss_mib": round(server.rss() / 2**20, 1),
            "kib_per_connection": round((server.rss() - base) / 1024 / max(opened, 1), 2),
        })  # fmt: skip
    lg.call_all("close")
    return rows


# Feature scenarios: each adds a configuration of the hub (bench.peers.feature_peers) to the
# burst and steady runs, so the table sets it beside the hub as shipped.
FEATURES = ("storage", "redis")
