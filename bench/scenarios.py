"""Shared measuring helpers, the run sizes, and the fan-out scenarios (burst and steady)."""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass
from typing import Any

from bench.peers import Target, proc_cpu
from bench.pool import LoadGen

ROOM = "bench"
PUBLISHER = 0  # worker 0 only publishes; the others hold the receiving connections


@dataclass(frozen=True)
class Scale:
    workers: int  # receiving worker processes (plus one publisher)
    repeats: int
    burst: tuple[tuple[int, int], ...]  # (subscribers, messages)
    steady_subscribers: int
    steady_rates: tuple[int, ...]
    steady_seconds: float
    slow_subscribers: int
    slow_rate: int
    slow_size: int
    slow_seconds: float
    idle: tuple[int, ...]
    close_wait: float  # seconds after publishing to keep watching for the slow reader's close
    size: int = 64


SCALES = {
    "full": Scale(3, 5, ((100, 1000), (1000, 200)), 100, (500, 1000, 1500, 2000, 3000), 4.0,
                  50, 500, 4096, 10.0, (5000, 10000), 10.0),
    "quick": Scale(3, 3, ((100, 500), (1000, 100)), 100, (500, 1000, 2000), 2.0,
                   50, 500, 4096, 4.0, (2000,), 4.0),
    "smoke": Scale(1, 1, ((5, 20),), 5, (100,), 0.5, 5, 100, 256, 0.5, (20,), 0.5),
}  # fmt: skip


class Usage:
    """CPU used by the server and by the generator processes over one measurement."""

    def __init__(self, server: Target, lg: LoadGen) -> None:
        self.server, self.gens = server, lg.pids
        self.t0, self.s0, self.g0 = time.monotonic(), server.cpu(), self._gen()

    def _gen(self) -> list[float]:
        return [proc_cpu(pid) for pid in self.gens]

    def done(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        gens = [(b - a) / wall for a, b in zip(self.g0, self._gen(), strict=True)]
        return {
            "server_cpu": round((self.server.cpu() - self.s0) / wall, 3),
            "generator_cpu": round(sum(gens), 3),
            "busiest_generator_cpu": round(max(gens), 3),
        }


def subscribe(lg: LoadGen, server: Target, n: int, json_mode: bool, group: str = "sub") -> float:
    """Open n receivers spread over the receiving workers; returns connections per second."""
    workers = range(1, len(lg.pipes))
    shares = [n // len(workers) + (1 if i < n % len(workers) else 0) for i in range(len(workers))]
    started = time.monotonic()
    for w, share in zip(workers, shares, strict=True):
        lg.send(w, "connect", server.port, server.path(ROOM, json_mode), share, group)
    answers = [lg.result(w, 300) for w in workers]
    opened = sum(a["opened"] for a in answers)
    if opened != n:
        first = next((a["error"] for a in answers if a["error"]), None)
        raise RuntimeError(f"{server.peer.name}: {opened} of {n} connections opened; {first}")
    return n / (time.monotonic() - started)


def tallies(lg: LoadGen, latencies: bool = False) -> dict[str, Any]:
    """Receivers' counts summed, last arrival, and all latencies (ns), over every worker."""
    total: dict[str, Any] = {}
    for w in range(1, len(lg.pipes)):
        for group, t in lg.call(w, "tally", latencies).items():
            g = total.setdefault(group, {"count": 0, "last_ns": 0, "lat": array("q")})
            g["count"] += t["count"]
            g["last_ns"] = max(g["last_ns"], t["last_ns"])
            g["lat"].frombytes(t["latencies"])
    return total


def wait_count(lg: LoadGen, expected: int, timeout: float, group: str = "sub") -> dict[str, Any]:
    """Poll until `expected` arrived, nothing new arrived for 2 s, or the timeout passed."""
    deadline, last, still = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        got = tallies(lg).get(group, {"count": 0, "last_ns": 0})
        if got["count"] != last:
            last, still = got["count"], time.monotonic()
        if got["count"] >= expected or time.monotonic() > min(deadline, still + 2.0):
            return dict(got)
        time.sleep(0.05)


def prepare(lg: LoadGen, server: Target, n: int, json_mode: bool) -> float:
    """Receivers plus a publisher, then one message to everyone, so every join has completed."""
    rate = subscribe(lg, server, n, json_mode)
    # A cluster takes its publisher on the other instance than its subscribers.
    port = getattr(server, "publisher_port", server.port)
    lg.call(PUBLISHER, "publisher", port, server.path(ROOM, json_mode))
    for _ in range(50):
        lg.call_all("reset", False)
        lg.call(PUBLISHER, "burst", 1, json_mode, ROOM, 32)
        if wait_count(lg, n, 1.0)["count"] >= n:
            return rate
    raise RuntimeError(f"{server.peer.name}: warm-up message never reached all {n} receivers")


def percentiles(lat: array[int]) -> dict[str, float | None]:
    if not lat:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(lat)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 3)

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1] / 1e6, 3)}


def burst(server: Target, lg: LoadGen, scale: Scale, json_mode: bool) -> list[dict[str, Any]]:
    """1 publisher, N subscribers, messages back to back: deliveries per second (median)."""
    rows = []
    for subs, messages in scale.burst:
        prepare(lg, server, subs, json_mode)
        runs = []
        for _ in range(scale.repeats):
            lg.call_all("reset", False)
            usage = Usage(server, lg)
            sent = lg.call(PUBLISHER, "burst", messages, json_mode, ROOM, scale.size, timeout=300)
            got = wait_count(lg, subs * messages, 120.0)
            seconds = (got["last_ns"] - sent["start_ns"]) / 1e9
            runs.append({"deliveries": got["count"], "seconds": round(seconds, 4),
                         "per_second": round(got["count"] / seconds), **usage.done()})  # fmt: skip
        lg.call_all("close")
        mid = sorted(runs, key=lambda r: r["per_second"])[len(runs) // 2]
        rows.append({"subscribers": subs, "messages": messages, "expected": subs * messages,
                     "per_second": mid["per_second"], "median_run": mid, "runs": runs})  # fmt: skip
    return rows


def steady(server: Target, lg: LoadGen, scale: Scale, json_mode: bool) -> dict[str, Any]:
    """Fixed publish rates to N subscribers: latency, and the best rate with p99 < 50 ms."""
    subs = scale.steady_subscribers
    prepare(lg, server, subs, json_mode)
    rows, best = [], None
    for rate in scale.steady_rates:
        lg.call_all("reset", True)
        usage = Usage(server, lg)
        sent = lg.call(PUBLISHER, "steady", rate, scale.steady_seconds, json_mode, ROOM, scale.size)
        expected = subs * sent["sent"]
        got = wait_count(lg, expected, 10.0)
        lat = tallies(lg, latencies=True)["sub"]["lat"]
        row = {"rate": rate, "expected": expected, "delivered": got["count"],
               **percentiles(lat), **usage.done()}  # fmt: skip
        row["ok"] = got["count"] == expected and (row["p99_ms"] or 1e9) < 50.0
        rows.append(row)
        if not row["ok"]:
            break
        best = rate
    lg.call_all("close")
    return {"subscribers": subs, "rates": rows, "best_rate_p99_under_50ms": best}
