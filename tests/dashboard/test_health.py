"""Health tiles turn red past their thresholds, and say so in words, not by colour alone."""

from __future__ import annotations

from dashboard.health import THRESHOLDS, counts, tiles, tiles_html
from dashboard.stats import RoomFigures, StatsSample


def test_tiles_turn_red_past_their_thresholds() -> None:
    values = {"redis up": 1.0, "delivery p99 ms": 400.0, "slow consumers/min": 0.0}
    shown = {t.label: t for t in tiles(values, linked=True)}
    assert shown["delivery p99 ms"].red and shown["delivery p99 ms"].value == "400ms"
    assert not shown["slow consumers/min"].red
    assert not shown["broker"].red and shown["broker"].value == "up"
    assert shown["store write p99 ms"].value == "—"
    assert set(shown) == {"broker", *THRESHOLDS}


def test_a_broker_down_is_red_and_marked_in_the_html() -> None:
    html = tiles_html(tiles({"redis up": 0.0}, linked=True))
    assert 'class="tile red" title="Redis in a cluster" data-label="broker"' in html
    assert "DOWN" in html and "⚠" in html


def test_the_headline_counts_are_tiles_that_are_never_red() -> None:
    stats = StatsSample(0.0, "i", 5, 2, 3, 40, 12.345, {"lobby": RoomFigures(5, 40, None)})
    shown = {t.label: (t.value, t.red) for t in counts(stats)}
    assert shown == {
        "Connections": ("5", False),
        "Text clients": ("2", False),
        "JSON clients": ("3", False),
        "Messages/s": ("12.3", False),
        "Rooms": ("1", False),
    }
    assert counts(None) == []
