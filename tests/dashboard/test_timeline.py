"""The charts' bounded history: three ranges, flat memory, and outages kept as gaps."""

from __future__ import annotations

from dashboard.charts import gap_records, series_records
from dashboard.timeline import Point, Timeline, gaps


def point(at: float, rate: float, **rooms: tuple[float, int]) -> Point:
    return Point(at, {"messages/s": rate, "delivery p99 ms": rate * 2}, rooms)


def test_each_range_keeps_a_bounded_number_of_points_whatever_the_uptime() -> None:
    timeline = Timeline(poll_seconds=1.0)
    for second in range(3 * 86400 // 10):  # a point every 10 s for three days
        timeline.add(point(second * 10.0, 1.0))
    now = 3 * 86400.0
    assert len(timeline.points("5 min", now)) <= 31
    assert len(timeline.points("1 h", now)) <= 362
    assert len(timeline.points("24 h", now)) <= 362


def test_downsampling_averages_rates_and_keeps_the_worst_latency() -> None:
    timeline = Timeline(poll_seconds=1.0)
    for second, rate in enumerate([1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 17.0, 19.0]):
        timeline.add(point(1000.0 + second, rate, lobby=(rate, 2)))
    timeline.add(point(1010.0, 0.0))  # opens the next 10 s bucket
    merged = timeline.points("1 h", 1011.0)[0]
    assert merged.values["messages/s"] == 10.0
    assert merged.values["delivery p99 ms"] == 38.0
    assert merged.rooms["lobby"] == (10.0, 2)


def test_a_hole_in_the_samples_is_a_gap_and_breaks_the_line() -> None:
    points = [point(t, 1.0) for t in (0, 1, 2, 3)] + [point(t, 1.0) for t in (28, 29, 30)]
    found = gaps(points, step=1.0, now=30.5, window=300)
    assert [(g.start, g.end, g.ongoing) for g in found] == [(3, 28, False)]
    rows = series_records(points, ["messages/s"], found)
    assert {r["segment"] for r in rows if r["time"] < 3001} == {0}
    assert {r["segment"] for r in rows if r["time"] > 27000} == {1}
    assert gap_records(found, "UTC")[0]["label"] == "no data 25s"


def test_an_outage_still_going_on_is_a_gap_until_now() -> None:
    points = [point(t, 1.0) for t in (0, 1, 2)]
    found = gaps(points, step=1.0, now=60.0, window=300)
    assert [(g.start, g.end, g.ongoing) for g in found] == [(2, 60.0, True)]
    assert gap_records(found, "UTC")[0]["label"] == "no data since 00:00:02"
