"""The charts and tables of the page, drawn from the feed client's bounded history."""

from __future__ import annotations

import time

import streamlit as st

from dashboard.charts import gap_records, line_chart, room_records, series_records
from dashboard.feed import FeedClient
from dashboard.timeline import RANGES, gaps
from dashboard.view import local_clock, rooms_rows, table_html

TOP_ROOMS = 20
TABLE_CSS = """<style>
table.rooms, table.codes {width: 100%; border-collapse: collapse; font-size: 0.85rem;
  table-layout: fixed;}
table.rooms td, table.codes td {overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
table.rooms th, table.codes th {text-align: left; opacity: 0.7; font-weight: 500;}
table.rooms td, table.codes td, table.rooms th, table.codes th
  {padding: 0.15rem 0.4rem; border-bottom: 1px solid #8883;}
</style>"""

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
            st.altair_chart(line_chart(rows, shaded, zone, unit), width="stretch")
    with left:
        st.markdown("**Messages per second, busiest rooms**")
        rows = room_records(points, found, members=False)
        st.altair_chart(line_chart(rows, shaded, zone, "msg/s"), width="stretch")
    with right:
        st.markdown("**Members, busiest rooms**")
        rows = room_records(points, found, members=True)
        st.altair_chart(line_chart(rows, shaded, zone, "members"), width="stretch")


def render_tables(client: FeedClient, zone: str) -> None:
    """Top rooms (rooms only publishers use included), then errors and closes by code."""
    snap = client.snapshot()
    rows = rooms_rows(snap.stats, snap.room_rates, zone)
    if not rows:
        st.caption("No rooms.")
    listed = "<p><b>Rooms</b> (busiest first"
    listed += f", {TOP_ROOMS} of {len(rows)})</p>" if len(rows) > TOP_ROOMS else ")</p>"
    html = listed + table_html(rows[:TOP_ROOMS], "rooms")
    if snap.figures is None:
        st.html(html)
        return
    codes = [
        {"kind": "error", "code": code, "since start": int(n)}
        for code, n in sorted(snap.figures.errors_total.items(), key=lambda kv: -kv[1])
    ] + [
        {"kind": "close", "code": code, "since start": int(n)}
        for code, n in sorted(snap.figures.closes_total.items(), key=lambda kv: -kv[1])
    ]
    html += "<p><b>Errors and server closes by code</b> (this instance)</p>"
    html += table_html(codes, "codes") if codes else "<p>None so far.</p>"
    # One element per refresh: one small DOM update instead of several.
    st.html(html)
