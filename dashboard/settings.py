"""Where the backend is and how much the dashboard keeps, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_BACKEND_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """Everything the dashboard can be told; `from_env` reads BACKEND_URL and friends."""

    backend_url: str = DEFAULT_BACKEND_URL
    default_room: str = "lobby"
    # Messages kept for the feed (search and pause read them all), whatever the traffic: the
    # feed's memory bound. 20 000 is 100 s at 200 msg/s, a few MB.
    feed_size: int = 20_000
    # Rows the page shows at once: a readable page, and a cheap one to redraw every second.
    feed_rows: int = 50
    # Stored messages shown per room when the feed first follows it (the backend allows 500).
    history_on_join: int = 50
    # Longest text kept per message; the backend allows 64 KiB, a feed row needs far less.
    text_limit: int = 500
    # Seconds of /stats samples kept for the charts (one sample per poll).
    series_size: int = 300
    # The backend refuses more than this many rooms per connection (MAX_ROOMS_PER_CONNECTION).
    max_rooms: int = 32
    poll_seconds: float = 1.0
    refresh_seconds: float = 1.0
    feed_name: str = "dashboard"
    # Connect as an observer (unseen by chat users) when the feed's token is an admin's.
    observe: bool = True
    # Charts redraw less often than the numbers: redrawing them is what costs the browser.
    chart_refresh_seconds: float = 5.0
    backoff_max_seconds: float = 8.0
    # The feed connection's credentials (the send box logs in per viewer instead): a service
    # token, or a user the feed logs in as. Kept out of the repr so that they are never printed.
    token: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint derived from the HTTP address: http→ws, https→wss, then /ws."""
        base = self.backend_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base.removeprefix("https://") + "/ws"
        return "ws://" + base.removeprefix("http://") + "/ws"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardSettings:
        """BACKEND_URL, DASHBOARD_FEED_SIZE, DASHBOARD_REFRESH_SECONDS, DASHBOARD_TOKEN,
        DASHBOARD_USERNAME, DASHBOARD_PASSWORD; defaults otherwise."""
        env = os.environ if env is None else env
        return cls(
            backend_url=env.get("BACKEND_URL", DEFAULT_BACKEND_URL).rstrip("/"),
            feed_size=max(1, int(env.get("DASHBOARD_FEED_SIZE", 20_000))),
            refresh_seconds=max(0.2, float(env.get("DASHBOARD_REFRESH_SECONDS", 1.0))),
            chart_refresh_seconds=max(1.0, float(env.get("DASHBOARD_CHART_SECONDS", 5.0))),
            observe=env.get("DASHBOARD_OBSERVE", "1") != "0",
            token=env.get("DASHBOARD_TOKEN", "").strip(),
            username=env.get("DASHBOARD_USERNAME", "").strip(),
            password=env.get("DASHBOARD_PASSWORD", ""),
        )
