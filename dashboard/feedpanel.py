"""The live feed's controls: pause, room, sender and text filters.

Paused, the page keeps showing the messages as they were when the operator paused (the feed
keeps receiving meanwhile), so rows stop moving under the eyes; search and filters work on
every message the feed keeps (DASHBOARD_FEED_SIZE), not only on the rows on screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

from dashboard.store import FeedMessage, Snapshot
from dashboard.view import ALL_ROOMS, room_options

# A fixed layout and a contained, scrolling box: redrawing 100 rows every second then costs the
# browser a small, bounded layout instead of one over the whole page (long tasks at 200 msg/s).
FEED_CSS = """<style>
div.feedbox {max-height: 36rem; overflow-y: auto; contain: layout paint;}
table.feed {width: 100%; border-collapse: collapse; font-size: 0.9rem; table-layout: fixed;}
table.feed th:nth-child(1) {width: 7.5rem;} table.feed th:nth-child(2) {width: 6rem;}
table.feed th:nth-child(3) {width: 6.5rem;}
td.feed-room, td.feed-sender {overflow: hidden; text-overflow: ellipsis;}
table.feed th {text-align: left; opacity: 0.7; font-weight: 500;}
table.feed td, table.feed th {padding: 0.2rem 0.5rem; border-bottom: 1px solid #8883;}
td.feed-time {font-family: monospace; white-space: nowrap;}
td.feed-room {font-weight: 600; white-space: nowrap;}
td.feed-text {word-break: break-word;}
</style>"""

FROZEN = "feed_frozen"  # session-state key: the messages as they were when paused


@dataclass(frozen=True, slots=True)
class FeedControls:
    paused: bool
    room: str
    sender: str
    search: str


def feed_controls(readable: Iterable[str]) -> FeedControls:
    """The controls above the feed; the room filter offers only rooms this visitor may read."""
    rooms = set(readable)
    chosen = st.session_state.get("feed_room")
    options = room_options(rooms, None, chosen if chosen in rooms else None)
    if chosen is not None and chosen not in options:
        st.session_state.feed_room = ALL_ROOMS  # the visitor logged out: the room is hidden now
    pause_col, room_col = st.columns([1, 3])
    paused = pause_col.toggle(
        "Pause", key="feed_paused", help="Freeze the rows; search still works"
    )
    room = room_col.selectbox("Room", options, key="feed_room")
    sender_col, search_col = st.columns([1, 2])
    sender = sender_col.text_input("Sender", key="feed_sender", placeholder="any")
    search = search_col.text_input(
        "Search text", key="feed_search", placeholder="words in a message"
    )
    return FeedControls(bool(paused), room or ALL_ROOMS, sender, search)


def current_controls(readable: Iterable[str]) -> FeedControls:
    """The controls' values as the visitor last set them; a room they may no longer read
    (they logged out) counts as all rooms."""
    state = st.session_state
    room = state.get("feed_room") or ALL_ROOMS
    return FeedControls(
        bool(state.get("feed_paused", False)),
        room if room in set(readable) else ALL_ROOMS,
        str(state.get("feed_sender") or ""),
        str(state.get("feed_search") or ""),
    )


def shown_messages(snap: Snapshot, paused: bool) -> tuple[FeedMessage, ...]:
    """The live messages (newest first), or those kept when the operator paused."""
    if not paused:
        st.session_state.pop(FROZEN, None)
        return snap.messages
    frozen: tuple[FeedMessage, ...] | None = st.session_state.get(FROZEN)
    if frozen is None:
        frozen = st.session_state[FROZEN] = snap.messages
    return frozen
