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

from dashboard.feed import FeedClient  # noqa: E402
from dashboard.sendbox import current_viewer, render_send_box  # noqa: E402
from dashboard.settings import DashboardSettings  # noqa: E402
from dashboard.store import LinkState  # noqa: E402
from dashboard.view import (  # noqa: E402
    ALL_ROOMS,
    banner,
    connection_series,
    feed_html,
    feed_rows,
    rate_series,
    room_options,
    rooms_rows,
)
from dashboard.visibility import RoomVisibility  # noqa: E402

FEED_CSS = """<style>
table.feed {width: 100%; border-collapse: collapse; font-size: 0.9rem;}
table.feed th {text-align: left; opacity: 0.7; font-weight: 500;}
table.feed td, table.feed th {padding: 0.2rem 0.5rem; border-bottom: 1px solid #8883;}
td.feed-time {font-family: monospace; white-space: nowrap;}
td.feed-room {font-weight: 600; white-space: nowrap;}
td.feed-text {word-break: break-word;}
</style>"""


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


def render_status(client: FeedClient, settings: DashboardSettings) -> None:
    """The connection banner and the backend's own counts."""
    snap = client.snapshot()
    state = banner(snap.link, settings.backend_url)
    show: dict[str, Callable[[str], object]] = {
        "success": st.success,
        "warning": st.warning,
        "error": st.error,
        "info": st.info,
    }
    show[state.kind](state.text)
    stats = snap.stats
    if stats is None:
        st.caption("No figures from /stats yet.")
        return
    cols = st.columns(5)
    cols[0].metric("Connections", stats.connections)
    cols[1].metric("Text clients", stats.text_connections)
    cols[2].metric("JSON clients", stats.json_connections)
    cols[3].metric("Messages/s", f"{stats.messages_per_second:.1f}")
    cols[4].metric("Rooms", len(stats.rooms))
    age = time.time() - stats.at
    connected = snap.link.state is LinkState.CONNECTED
    stale = "" if connected else f" Last known figures, {age:.0f}s old."
    st.caption(
        f"From /stats of instance {stats.instance}; counts include this dashboard's own feed "
        f"connection.{stale}"
    )


def render_charts(client: FeedClient) -> None:
    """Messages per second and connections over the last minutes, then the rooms table."""
    snap = client.snapshot()
    left, right = st.columns(2)
    with left:
        st.markdown("**Messages per second**")
        st.line_chart(rate_series(snap.series), x="time", height=220)
    with right:
        st.markdown("**Connections**")
        st.line_chart(connection_series(snap.series), x="time", height=220)
    st.markdown("**Rooms**")
    rows = rooms_rows(snap.stats, snap.room_rates)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("No rooms.")


@st.cache_resource(show_spinner=False, on_release=RoomVisibility.close)
def room_visibility(backend_url: str) -> RoomVisibility:
    """Asks the backend which rooms a visitor may read (shared by the visitors' page runs)."""
    return RoomVisibility(backend_url)


def render_feed(client: FeedClient, settings: DashboardSettings) -> None:
    """The newest messages first, optionally of one room: only rooms this visitor may read.

    The feed's own token (DASHBOARD_TOKEN may be an admin's) reads everything; what a visitor
    sees is decided by the visitor's credentials alone: none (open rooms only) or the send
    box's login."""
    snap = client.snapshot()
    viewer = current_viewer()
    # The feed's rooms (at most DASHBOARD_MAX_ROOMS) and those of the messages it keeps.
    listed = {m.room for m in snap.messages} | set(snap.rooms)
    readable = room_visibility(settings.backend_url).readable(
        listed, viewer.token if viewer else None
    )
    messages = [m for m in snap.messages if m.room in readable]
    chosen = st.session_state.get("feed_room")
    options = room_options(readable, None, chosen if chosen in readable else None)
    if chosen is not None and chosen not in options:
        st.session_state.feed_room = ALL_ROOMS  # the visitor logged out: the room is hidden now
    room = st.selectbox("Room", options, key="feed_room")
    shown = [r for r in snap.rooms if r in readable]
    following = ", ".join(shown) or "nothing yet"
    st.caption(
        f"Following {len(shown)} room(s): {following}. Keeps the last {settings.feed_size} "
        f"messages; {snap.received} received since start."
    )
    if viewer is None:
        st.caption("Showing open rooms only; log in to see the rooms your account may read.")
    st.html(FEED_CSS + feed_html(feed_rows(messages, room or ALL_ROOMS)))


def main() -> None:
    st.set_page_config(page_title="Hub operations", page_icon="📡", layout="wide")
    settings = DashboardSettings.from_env()
    client = feed_client(settings.backend_url)
    every = timedelta(seconds=settings.refresh_seconds)
    st.title("WebSocket_DeSafio · live operations")
    st.fragment(render_status, run_every=every)(client, settings)
    charts_col, feed_col = st.columns([3, 2])
    with charts_col:
        st.fragment(render_charts, run_every=every)(client)
    with feed_col:
        st.subheader("Send a message")
        config = client.auth_config
        render_send_box(settings, auth_required=config is not None and config.auth_required)
        st.subheader("Live feed")
        st.fragment(render_feed, run_every=every)(client, settings)


main()
