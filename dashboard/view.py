"""What the page shows, as plain data: snapshots in, rows, series and banners out.

Kept free of Streamlit so that every decision about what to render is testable on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Literal
from zoneinfo import ZoneInfo

from dashboard.stats import StatsSample
from dashboard.store import FeedMessage, Link, LinkState

ALL_ROOMS = "All rooms"


@dataclass(frozen=True, slots=True)
class Banner:
    kind: Literal["success", "warning", "error", "info"]
    text: str


def banner(link: Link, backend_url: str, now: float | None = None) -> Banner:
    """The connection state at a glance, with when the next attempt is due."""
    now = time.monotonic() if now is None else now
    retry = ""
    if link.retry_at is not None:
        retry = f" Retrying in {max(0.0, link.retry_at - now):.0f}s (attempt {link.failures + 1})."
    reason = f" ({link.detail})" if link.detail else ""
    if link.state is LinkState.CONNECTED:
        return Banner("success", f"Connected to {backend_url}")
    if link.state is LinkState.CONNECTING:
        return Banner("info", f"Connecting to {backend_url}…")
    if link.state is LinkState.UNAUTHORIZED:
        # Credentials are the operator's to fix; the countdown only says when it is re-checked.
        return Banner("error", f"{link.detail} (backend {backend_url}).{retry}")
    if link.state is LinkState.RECONNECTING:
        return Banner("warning", f"Reconnecting to {backend_url}{reason}.{retry}")
    return Banner("error", f"Backend unavailable at {backend_url}{reason}.{retry}")


def clock(ts: str, zone: str = "UTC") -> str:
    """HH:MM:SS.mmm (24-hour, in `zone`) of an ISO-8601 timestamp; unchanged if it is not one."""
    try:
        at = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if at.tzinfo is not None:
        at = at.astimezone(ZoneInfo(zone))
    return at.strftime("%H:%M:%S.%f")[:-3]


def feed_rows(
    messages: Iterable[FeedMessage],
    room: str = ALL_ROOMS,
    limit: int = 200,
    zone: str = "UTC",
    search: str = "",
    sender: str = "",
) -> list[dict[str, str]]:
    """Newest first (as given), filtered to one room unless ALL_ROOMS, to senders containing
    `sender` and texts containing `search` (both case-insensitive), at most `limit` rows."""
    needle, who = search.casefold().strip(), sender.casefold().strip()
    rows: list[dict[str, str]] = []
    for msg in messages:
        if room != ALL_ROOMS and msg.room != room:
            continue
        if who and who not in msg.sender.casefold():
            continue
        if needle and needle not in msg.text.casefold():
            continue
        rows.append(
            {
                "time": clock(msg.ts, zone),
                "room": msg.room,
                "sender": f"{msg.sender} (guest)" if msg.guest else msg.sender,
                "text": msg.text,
            }
        )
        if len(rows) >= limit:
            break
    return rows


def feed_html(rows: Sequence[dict[str, str]], zone: str = "UTC") -> str:
    """The feed as an HTML table; every field escaped, so a message can never inject markup."""
    if not rows:
        return '<p class="feed-empty">No messages yet.</p>'
    body = "".join(
        "<tr>"
        f'<td class="feed-time">{escape(row["time"])}</td>'
        f'<td class="feed-room">{escape(row["room"])}</td>'
        f'<td class="feed-sender">{escape(row["sender"])}</td>'
        f'<td class="feed-text">{escape(row["text"])}</td>'
        "</tr>"
        for row in rows
    )
    head = f"<tr><th>time ({escape(zone)})</th><th>room</th><th>sender</th><th>text</th></tr>"
    return f'<table class="feed"><thead>{head}</thead><tbody>{body}</tbody></table>'


def room_options(
    rooms: Iterable[str], stats: StatsSample | None, chosen: str | None = None
) -> list[str]:
    """Filter choices: every followed or listed room, after the 'all' choice.

    The room chosen now stays a choice even once it empties: otherwise the filter would jump
    back to all rooms under the operator's eyes.
    """
    listed = set(rooms) | (set(stats.rooms) if stats else set())
    if chosen and chosen != ALL_ROOMS:
        listed.add(chosen)
    return [ALL_ROOMS, *sorted(listed)]


def rooms_rows(
    stats: StatsSample | None, rates: dict[str, float], zone: str = "UTC"
) -> list[dict[str, object]]:
    """The rooms table: busiest first; rooms only publishers use have 0 connections."""
    if stats is None:
        return []
    ordered = sorted(
        stats.rooms.items(),
        key=lambda item: (-rates.get(item[0], 0.0), -item[1].connections, item[0]),
    )
    return [
        {
            "room": room,
            "connections": figures.connections,
            "messages/s": round(rates.get(room, 0.0), 1),
            "messages": figures.messages,
            "last message": (
                clock(figures.last_message_at, zone) if figures.last_message_at else "—"
            ),
        }
        for room, figures in ordered
    ]


def local_clock(at: float, zone: str = "UTC") -> str:
    """HH:MM:SS (24-hour, in `zone`) of `at`, epoch seconds."""
    return datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


def table_html(rows: Sequence[Mapping[str, object]], css_class: str) -> str:
    """Rows as a plain HTML table (every cell escaped): far cheaper for the browser to redraw
    every second than a data grid. Each cell carries its column as `data-col`."""
    if not rows:
        return ""
    columns = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-col="{escape(c)}">{escape(str(row[c]))}</td>' for c in columns)
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
