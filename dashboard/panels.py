"""The charts and tables of the page, drawn from the feed client's bounded history."""

from __future__ import annotations

import time

import streamlit as st

from dashboard.charts import gap_records, line_chart, room_records, series_records
from dashboard.feed import FeedClient
from dashboard.timeline import RANGES, gaps
from dashboard.view import local_clock, rooms_rows

# (title, figures, unit) per chart, in reading order: traffic, latency, trouble, queues.
CHARTS = (
    ("Messages per second", ("messages/s",), "msg/s"),
    ("Connections", ("connections", "text", "json"), "connections"),
    ("Delivery latency", ("delivery p50 ms", "delivery p95 ms", "delivery p99 ms"), "ms"),
    ("Storage writes", ("store write p99 ms",), "ms"),
    ("Failures", ("store failures/min", "slow consumers/min", "errors/min"), "per minute"),
    ("Queues", ("outbound queued", "longest queue", "broker backlog"), "frames"),
)


def render_charts(client: FeedClient, span: str, zone: str) -> None:
    """Every chart over the chosen range; outages shaded, labelled and listed."""
    now = time.time()
    window = next(r for r in RANGES if r.label == span)
    points = client.store.points(span, now)
    if not points:
        st.caption("No figures yet: charts start with the first answer from /stats.")
        return
    found = gaps(points, client.store.timeline.step(span), now, window.seconds)
    shaded = gap_records(found, zone)
    edges = ((now - window.seconds) * 1000, now * 1000)
    if found:
        listed = "; ".join(
            f"{local_clock(g.start, zone)} to {'now' if g.ongoing else local_clock(g.end, zone)} "
            f"({g.seconds:.0f}s)"
            for g in found
        )
        st.warning(f"No data (backend or /stats unreachable): {listed} ({zone}).")
    left, right = st.columns(2)
    for n, (title, keys, unit) in enumerate(CHARTS):
        with left if n % 2 == 0 else right:
            st.markdown(f"**{title}**")
            rows = series_records(points, keys, found)
            st.altair_chart(line_chart(rows, shaded, zone, edges, unit), width="stretch")
    with left:
        st.markdown("**Messages per second, busiest rooms**")
        rows = room_records(points, found, members=False)
        st.altair_chart(line_chart(rows, shaded, zone, edges, "msg/s"), width="stretch")
    with right:
        st.markdown("**Members, busiest rooms**")
        rows = room_records(points, found, members=True)
        st.altair_chart(line_chart(rows, shaded, zone, edges, "members"), width="stretch")


def render_tables(client: FeedClient, zone: str) -> None:
    """Top rooms (rooms only publishers use included), then errors and closes by code."""
    snap = client.snapshot()
    st.markdown("**Rooms** (busiest first)")
    rows = rooms_rows(snap.stats, snap.room_rates, zone)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("No rooms.")
    if snap.figures is None:
        return
    codes = [
        {"kind": "error", "code": code, "since start": int(n)}
        for code, n in sorted(snap.figures.errors_total.items(), key=lambda kv: -kv[1])
    ] + [
        {"kind": "close", "code": code, "since start": int(n)}
        for code, n in sorted(snap.figures.closes_total.items(), key=lambda kv: -kv[1])
    ]
    st.markdown("**Errors and server closes by code** (this instance)")
    if codes:
        st.dataframe(codes, hide_index=True)
    else:
        st.caption("None so far.")
