"""The charts: time series with outages drawn as labelled gaps, in the viewer's time zone.

Times go to Vega-Lite as epoch milliseconds, which it shows in the browser's zone: the zone the
page reads from the browser (st.context.timezone) and names on every axis and in the feed. Lines
break at every gap (a new `segment`), so an outage is never drawn as a straight line across.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import altair as alt

from dashboard.timeline import Gap, Point

Record = dict[str, Any]
HEIGHT = 170


def viewer_zone(name: str | None) -> str:
    """The viewer's IANA zone if the browser gave a valid one, else UTC."""
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def local_time(at: float, zone: str, with_ms: bool = False) -> str:
    """24-hour wall time of `at` (epoch seconds) in `zone`."""
    text = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S.%f")
    return text[:-3] if with_ms else text[:-7]


def series_records(
    points: Sequence[Point], keys: Sequence[str], gaps: Sequence[Gap]
) -> list[Record]:
    """Long-form rows (time, series, value, segment) for `keys`; a new segment after each gap."""
    starts = sorted(g.end for g in gaps if not g.ongoing)
    rows: list[Record] = []
    segment, nxt = 0, 0
    for point in points:
        while nxt < len(starts) and point.at >= starts[nxt]:
            segment, nxt = segment + 1, nxt + 1
        for key in keys:
            value = point.values.get(key)
            if value is not None:
                rows.append(
                    {"time": point.at * 1000, "series": key, "value": value, "segment": segment}
                )
    return rows


def room_records(points: Sequence[Point], gaps: Sequence[Gap], members: bool) -> list[Record]:
    """Per-room rows: messages/s (or members) of the rooms each point lists."""
    starts = sorted(g.end for g in gaps if not g.ongoing)
    rows: list[Record] = []
    for point in points:
        segment = sum(1 for s in starts if point.at >= s)
        for room, (rate, count) in point.rooms.items():
            value = count if members else rate
            rows.append(
                {"time": point.at * 1000, "series": room, "value": value, "segment": segment}
            )
    return rows


def gap_records(gaps: Sequence[Gap], zone: str) -> list[Record]:
    """One row per gap: its span and the label drawn over it."""
    return [
        {
            "start": g.start * 1000,
            "end": g.end * 1000,
            "label": (
                f"no data since {local_time(g.start, zone)}"
                if g.ongoing
                else f"no data {g.seconds:.0f}s"
            ),
        }
        for g in gaps
    ]


def line_chart(rows: list[Record], gaps: list[Record], zone: str, title: str) -> alt.LayerChart:
    """Lines per series (broken at gaps), gaps shaded and labelled, the axis in `zone`.

    Lines and gaps are one top-level dataset (`kind` tells them apart) and nothing in the spec
    depends on the data or the time: Streamlit then sends the data alone and the browser
    updates the chart in place, instead of building a new chart on every refresh (a long task).
    """
    x = alt.X("time:T", title=f"time ({zone})", axis=alt.Axis(format="%H:%M:%S", labelOverlap=True))
    data = [{**row, "kind": "line"} for row in rows] + [{**gap, "kind": "gap"} for gap in gaps]
    lines = (
        alt.Chart()
        .transform_filter("datum.kind === 'line'")
        .mark_line(interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("value:Q", title=title, axis=alt.Axis(format=",~r")),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
            detail="segment:N",
            tooltip=["series:N", alt.Tooltip("time:T", format="%H:%M:%S"), "value:Q"],
        )
    )
    gap = alt.Chart().transform_filter("datum.kind === 'gap'")
    shade = gap.mark_rect(opacity=0.18, color="#d62728").encode(x="start:T", x2="end:T")
    label = gap.mark_text(
        align="left", baseline="top", dx=3, dy=3, color="#d62728", fontSize=11
    ).encode(x="start:T", text="label:N", y=alt.value(0))
    return alt.LayerChart(
        data=alt.InlineData(values=data), layer=[shade, lines, label], height=HEIGHT
    )
