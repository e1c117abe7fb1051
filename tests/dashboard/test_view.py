"""What the page renders, decided without Streamlit: banners, feed rows, escaping, tables."""

from __future__ import annotations

from dashboard.stats import RoomFigures, StatsSample
from dashboard.store import FeedMessage, Link, LinkState
from dashboard.view import (
    ALL_ROOMS,
    banner,
    feed_html,
    feed_rows,
    room_options,
    rooms_rows,
)

URL = "http://hub:8765"
MESSAGES = [
    FeedMessage(3, "ops", "ann", "newest", "2026-11-26T01:54:18.123Z"),
    FeedMessage(7, "lobby", "bob", "middle", "2026-11-26T01:54:17.000Z"),
    FeedMessage(2, "ops", "cid", "oldest", "2026-11-26T01:54:16.500Z"),
]


def test_banner_says_connected_in_green() -> None:
    assert banner(Link(LinkState.CONNECTED), URL) == banner(Link(LinkState.CONNECTED), URL, 0.0)
    assert banner(Link(LinkState.CONNECTED), URL).kind == "success"


def test_banner_says_the_backend_is_down_and_when_it_retries() -> None:
    link = Link(LinkState.DOWN, "connection refused", failures=2, retry_at=14.0)
    state = banner(link, URL, now=10.0)
    assert state.kind == "error"
    assert state.text == (
        "Backend unavailable at http://hub:8765 (connection refused). Retrying in 4s (attempt 3)."
    )


def test_banner_says_reconnecting_in_amber() -> None:
    assert banner(Link(LinkState.RECONNECTING, "closed"), URL).kind == "warning"


def test_feed_rows_keep_newest_first_and_filter_by_room() -> None:
    assert [row["text"] for row in feed_rows(MESSAGES)] == ["newest", "middle", "oldest"]
    assert [row["text"] for row in feed_rows(MESSAGES, "ops")] == ["newest", "oldest"]
    assert feed_rows(MESSAGES, limit=1)[0] == {
        "time": "01:54:18.123",
        "room": "ops",
        "sender": "ann",
        "text": "newest",
    }


def test_feed_html_escapes_what_senders_wrote() -> None:
    rows = [{"time": "t", "room": "r", "sender": "<b>x</b>", "text": '<img src="http://a">'}]
    html = feed_html(rows)
    assert "<img" not in html and "&lt;img src=&quot;http://a&quot;&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_room_options_list_followed_and_listed_rooms_after_all() -> None:
    stats = StatsSample(0.0, "i", 1, 0, 1, 0, 0.0, {"ops": RoomFigures(1, 0, None)})
    assert room_options(["lobby"], stats) == [ALL_ROOMS, "lobby", "ops"]


def test_room_options_keep_the_chosen_room_after_it_empties() -> None:
    assert room_options(["lobby"], None, "gone") == [ALL_ROOMS, "gone", "lobby"]
    assert room_options(["lobby"], None, ALL_ROOMS) == [ALL_ROOMS, "lobby"]


def test_rooms_rows_put_the_busiest_room_first() -> None:
    stats = StatsSample(
        0.0,
        "i",
        3,
        0,
        3,
        10,
        2.0,
        {
            "calm": RoomFigures(2, 1, None),
            "busy": RoomFigures(1, 9, "2026-11-26T01:54:18.123Z"),
        },
    )
    rows = rooms_rows(stats, {"busy": 2.04, "calm": 0.0})
    assert rows[0] == {
        "room": "busy",
        "connections": 1,
        "messages/s": 2.0,
        "messages": 9,
        "last message": "01:54:18.123",
    }
    assert rows[1]["last message"] == "—"
