"""`streamlit run dashboard/app.py`: the hub's live operations view (BACKEND_URL says where).

The feed client lives once per server process (st.cache_resource); every page run only reads
a snapshot of it. Live parts refresh as fragments, so a tick never reruns the whole page.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the `dashboard.*` imports need the
# repository root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard.adminpanel import render_admin  # noqa: E402
from dashboard.charts import viewer_zone  # noqa: E402
from dashboard.feed import FeedClient  # noqa: E402
from dashboard.feedpanel import (  # noqa: E402
    FEED_CSS,
    current_controls,
    feed_controls,
    shown_messages,
)
from dashboard.health import TILES_CSS, counts, tiles, tiles_html  # noqa: E402
from dashboard.panels import TABLE_CSS, render_charts, render_tables  # noqa: E402
from dashboard.sendbox import current_viewer, render_send_box  # noqa: E402
from dashboard.settings import DashboardSettings  # noqa: E402
from dashboard.store import LinkState  # noqa: E402
from dashboard.view import banner, feed_html, feed_rows, local_clock  # noqa: E402
from dashboard.visibility import RoomVisibility  # noqa: E402


def _stop_client(client: FeedClient) -> None:
    client.stop()


@st.cache_resource(show_spinner=False, on_release=_stop_client)
def feed_client(backend_url: str) -> FeedClient:
    """The one feed client of this server process for `backend_url`, already trying to connect."""
    # The rest (feed size, the feed's credentials) from the environment, as the page reads it.
    settings = DashboardSettings.from_env({**os.environ, "BACKEND_URL": backend_url})
    client = FeedClient(settings).start()
    # The first page then shows "connected" or "unavailable", not a transient "connecting".
    client.wait_first_attempt(3.0)
    return client


def zone() -> str:
    """The viewer's time zone (their browser's), UTC when the browser did not say."""
    return viewer_zone(st.context.timezone)


def render_status(client: FeedClient, settings: DashboardSettings) -> None:
    """The connection banner, the health tiles and the backend's own counts."""
    snap = client.snapshot()
    state = banner(snap.link, settings.backend_url)
    show: dict[str, Callable[[str], object]] = {
        "success": st.success,
        "warning": st.warning,
        "error": st.error,
        "info": st.info,
    }
    show[state.kind](state.text)
    connected = snap.link.state is LinkState.CONNECTED
    values = snap.figures.values if snap.figures else {}
    stats = snap.stats
    # Counts and health as one HTML element: one small update a second for the browser.
    st.html(tiles_html(counts(stats) + tiles(values, connected)))
    if stats is None:
        st.caption("No figures from /stats yet.")
        return
    age = time.time() - stats.at
    stale = "" if connected else f" Last known figures, {age:.0f}s old."
    who = (
        "this dashboard observes unseen (not counted)"
        if snap.observing
        else "counts include this dashboard's own feed connection (no admin token: it is seen)"
    )
    st.caption(
        f"From /stats of instance {stats.instance} at {local_clock(stats.at, zone())} "
        f"({zone()}); {who}.{stale}"
    )


@st.cache_resource(show_spinner=False, on_release=RoomVisibility.close)
def room_visibility(backend_url: str) -> RoomVisibility:
    """Asks the backend which rooms a visitor may read (shared by the visitors' page runs)."""
    return RoomVisibility(backend_url)


def readable_rooms(client: FeedClient, settings: DashboardSettings) -> set[str]:
    """The feed's rooms that this visitor may read.

    The feed's own token (DASHBOARD_TOKEN may be an admin's) reads everything; what a visitor
    sees is decided by the visitor's credentials alone: none (open rooms only) or the send
    box's login."""
    snap = client.snapshot()
    viewer = current_viewer()
    # The feed's rooms (at most DASHBOARD_MAX_ROOMS) and those of the messages it keeps.
    listed = {m.room for m in snap.messages} | set(snap.rooms)
    return room_visibility(settings.backend_url).readable(listed, viewer.token if viewer else None)


def render_feed_controls(client: FeedClient, settings: DashboardSettings) -> None:
    """Pause and filters. Not redrawn with the rows every second: widgets cost the browser
    most to redraw, and a room list that changes under the pointer helps nobody."""
    feed_controls(readable_rooms(client, settings))


def render_feed(client: FeedClient, settings: DashboardSettings) -> None:
    """The newest messages first: paused or live, filtered and searched; only rooms this
    visitor may read."""
    snap = client.snapshot()
    readable = readable_rooms(client, settings)
    controls = current_controls(readable)
    messages = [m for m in shown_messages(snap, controls.paused) if m.room in readable]
    shown = [r for r in snap.rooms if r in readable]
    following = ", ".join(shown) or "nothing yet"
    st.caption(
        f"Following {len(shown)} room(s): {following}. Keeps the last {settings.feed_size} "
        f"messages for search; {snap.received} received since start."
    )
    for at, room, text in snap.notices:
        if room in readable:
            st.warning(f"{local_clock(at, zone())} · room {room}: {text}.")
    if current_viewer() is None:
        st.caption("Showing open rooms only; log in to see the rooms your account may read.")
    rows = feed_rows(
        messages,
        controls.room,
        settings.feed_rows,
        zone(),
        controls.search,
        controls.sender,
    )
    st.html(f'<div class="feedbox">{feed_html(rows, zone())}</div>')


def render_members(client: FeedClient, settings: DashboardSettings) -> None:
    """Who is in a followed room, as the backend told the feed (roster, then joins and leaves);
    only rooms this visitor may read."""
    snap = client.snapshot()
    readable = readable_rooms(client, settings)
    rooms = sorted(room for room in snap.members if room in readable)
    st.markdown("**Members of a room** (rooms the feed follows)")
    room = st.selectbox("Members of", rooms, key="members_room") if rooms else None
    if room is None or room not in snap.members:
        st.caption("No room followed yet.")
        return
    count, who = snap.members[room]
    names = sorted(f"{name} (guest)" if guest else name for name, guest in who.values())
    st.caption(f"{count} member(s) in {room}; listed: {', '.join(names) or 'nobody'}.")


def main() -> None:
    st.set_page_config(page_title="Hub operations", page_icon="📡", layout="wide")
    settings = DashboardSettings.from_env()
    client = feed_client(settings.backend_url)
    every = timedelta(seconds=settings.refresh_seconds)
    charts_every = timedelta(seconds=settings.chart_refresh_seconds)
    st.title("WebSocket_DeSafio · live operations")
    # The page's CSS once, outside the fragments: a <style> element inserted with every refresh
    # would make the browser recompute the style of the whole page each time.
    st.html(FEED_CSS + TILES_CSS + TABLE_CSS)
    st.fragment(render_status, run_every=every)(client, settings)
    charts_col, feed_col = st.columns([3, 2])
    with charts_col:
        span = st.radio("Time range", ["5 min", "1 h", "24 h"], horizontal=True, key="range")
        st.fragment(render_charts, run_every=charts_every)(client, span or "5 min", zone())
        # The tables change slowly: redrawn with the charts, the browser has less to do.
        st.fragment(render_tables, run_every=charts_every)(client, zone())
    with feed_col:
        st.subheader("Send a message")
        config = client.auth_config
        auth_required = config is not None and config.auth_required
        render_send_box(settings, auth_required=auth_required)
        st.subheader("Live feed")
        st.fragment(render_feed_controls, run_every=charts_every)(client, settings)
        st.fragment(render_feed, run_every=every)(client, settings)
    with st.expander("Rooms: members and history; admin: connections and kick"):
        render_members(client, settings)
        render_admin(settings, zone(), auth_required)


main()
