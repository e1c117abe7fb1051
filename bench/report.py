"""The results table: absolute figures per server and the hub's ratio to each peer (same run)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Getter = Callable[[dict[str, Any]], float | None]


def _get(*keys: str | int) -> Getter:
    def pick(result: dict[str, Any]) -> float | None:
        node: Any = result
        for key in keys:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return float(node) if isinstance(node, int | float) else None

    return pick


def _burst(mode: str, subs: int) -> Getter:
    def pick(result: dict[str, Any]) -> float | None:
        for row in result.get(mode, {}).get("burst", []):
            if row["subscribers"] == subs:
                return float(row["per_second"])
        return None

    return pick


def _steady(mode: str, rate: int, key: str) -> Getter:
    def pick(result: dict[str, Any]) -> float | None:
        for row in result.get(mode, {}).get("steady", {}).get("rates", []):
            if row["rate"] == rate:
                value = row[key] if key != "delivered_ratio" else row["delivered"] / row["expected"]
                return float(value) if value is not None else None
        return None

    return pick


def _idle(count: int, key: str) -> Getter:
    def pick(result: dict[str, Any]) -> float | None:
        rows = [r for r in result.get("idle", []) if r["connections"] == count]
        return float(rows[0][key]) if rows else None

    return pick


def metrics(meta: dict[str, Any]) -> list[tuple[str, str, Getter]]:
    """(label, which way is better, getter) for every row of the table."""
    rows: list[tuple[str, str, Getter]] = []
    for mode in ("text", "json"):
        for subs, _ in meta["scale"]["burst"]:
            rows.append((f"burst {mode}, {subs} subs: deliveries/s", "higher", _burst(mode, subs)))
            for key in ("server_cpu", "generator_cpu"):
                rows.append((f"  {key} (cores) in that burst", "info", _burst_cpu(mode, subs, key)))
    for mode in ("text", "json"):
        rate = meta["scale"]["steady_rates"][0]
        for key in ("p50_ms", "p99_ms", "max_ms"):
            rows.append((f"steady {mode} {rate} msg/s: {key}", "lower", _steady(mode, rate, key)))
        rows.append((f"steady {mode}: best msg/s with p99<50ms, 100% delivered", "higher",
                     _get(mode, "steady", "best_rate_p99_under_50ms")))  # fmt: skip
    rows += [
        ("slow reader: healthy delivered ratio", "higher", _get("slow", "healthy_delivered_ratio")),
        ("slow reader: healthy p99 ms", "lower", _get("slow", "healthy_p99_ms")),
        ("slow reader: server RSS growth MiB", "lower", _get("slow", "rss_growth_mib")),
        ("slow reader: closed after s (-: never)", "lower", _get("slow", "slow_closed_after_s")),
    ]
    for count in meta["scale"]["idle"]:
        rows.append((f"idle {count}: KiB/connection", "lower", _idle(count, "kib_per_connection")))
        rows.append((f"idle {count}: connects/s", "higher", _idle(count, "connect_per_second")))
    return rows


def _burst_cpu(mode: str, subs: int, key: str) -> Getter:
    def pick(result: dict[str, Any]) -> float | None:
        for row in result.get(mode, {}).get("burst", []):
            if row["subscribers"] == subs:
                return float(row["median_run"][key])
        return None

    return pick


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value != int(value) else f"{value:.0f}"


def table(results: dict[str, Any]) -> str:
    """A Markdown table; ratios are hub ÷ peer, from this one run."""
    names = list(results["servers"])
    peers = [n for n in names if n != "hub"]
    head = ["metric", "better", *names, *(f"hub/{p}" for p in peers)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, better, get in metrics(results["meta"]):
        values = {n: get(results["servers"][n]) for n in names}
        if all(v is None for v in values.values()):
            continue
        hub = values.get("hub")
        ratios = [
            f"{hub / v:.2f}x" if hub is not None and v and better != "info" else ""
            for v in (values[p] for p in peers)
        ]
        cells = [label, better, *(_fmt(values[n]) for n in names), *ratios]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save(results: dict[str, Any], out: Path | None = None) -> Path:
    """Write the results JSON (atomically: a .tmp file, then a rename)."""
    RESULTS.mkdir(exist_ok=True)
    path = out or RESULTS / time.strftime("bench-%Y%m%d-%H%M%S.json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str) + "\n")
    tmp.replace(path)
    return path
