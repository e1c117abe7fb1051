"""The health tiles: each figure against the threshold that turns it red.

Thresholds are where an operator should look, not where the hub breaks: a slow consumer closed
or a failed store write is always worth a look (any is red); latencies go red well before
clients would time out. docs/operations.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from dashboard.stats import StatsSample

# figure -> (red above this, unit)
THRESHOLDS: Mapping[str, tuple[float, str]] = {
    "delivery p50 ms": (50.0, "ms"),
    "delivery p99 ms": (250.0, "ms"),
    "store write p99 ms": (500.0, "ms"),
    "store failures/min": (0.0, "/min"),
    "slow consumers/min": (0.0, "/min"),
    "errors/min": (30.0, "/min"),
    "longest queue": (1000.0, " frames"),
    "broker backlog": (1000.0, " msgs"),
}


@dataclass(frozen=True, slots=True)
class Tile:
    label: str
    value: str
    red: bool
    hint: str = ""


def tiles(values: Mapping[str, float | None], linked: bool) -> list[Tile]:
    """One tile per threshold, plus the broker's health; a figure not known reads "—"."""
    shown: list[Tile] = []
    up = values.get("redis up")
    if up is None:
        shown.append(Tile("broker", "—", not linked, "no /metrics yet"))
    else:
        shown.append(Tile("broker", "up" if up >= 1 else "DOWN", up < 1, "Redis in a cluster"))
    for key, (limit, unit) in THRESHOLDS.items():
        value = values.get(key)
        if value is None:
            shown.append(Tile(key, "—", False, f"red above {limit:g}{unit}"))
            continue
        text = f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
        shown.append(Tile(key, text, value > limit, f"red above {limit:g}{unit}"))
    return shown


def counts(stats: StatsSample | None) -> list[Tile]:
    """The backend's headline counts (`/stats`), as tiles that are never red."""
    if stats is None:
        return []
    figures = {
        "Connections": str(stats.connections),
        "Text clients": str(stats.text_connections),
        "JSON clients": str(stats.json_connections),
        "Messages/s": f"{stats.messages_per_second:.1f}",
        "Rooms": str(len(stats.rooms)),
    }
    return [Tile(label, value, False, "from /stats") for label, value in figures.items()]


TILES_CSS = """<style>
div.tiles {display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr));
  gap: 0.4rem;}
div.tile {border: 1px solid #8884; border-radius: 0.4rem; padding: 0.3rem 0.5rem;}
div.tile.red {border-color: #d62728; background: #d6272822;}
div.tile .label {font-size: 0.75rem; opacity: 0.75;}
div.tile .value {font-size: 1.15rem; font-weight: 600;}
div.tile.red .value {color: #d62728;}
</style>"""


def tiles_html(shown: Sequence[Tile]) -> str:
    """The tiles as HTML; a red tile says so in its class and its title, not by colour alone."""
    cells = "".join(
        f'<div class="tile{" red" if t.red else ""}" title="{escape(t.hint)}"'
        f' data-label="{escape(t.label)}">'
        f'<div class="label">{escape(t.label)}{" ⚠" if t.red else ""}</div>'
        f'<div class="value">{escape(t.value)}</div></div>'
        for t in shown
    )
    return f'<div class="tiles">{cells}</div>'
