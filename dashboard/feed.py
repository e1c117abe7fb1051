"""The feed client: one background thread that follows the hub over the JSON protocol.

The thread owns the WebSocket and an HTTP client. It only writes to a `LiveStore` (bounded,
locked); pages read snapshots of it. Nothing here knows about Streamlit. Which rooms to follow,
and where each resumes, is following.py's bookkeeping.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import websocket

from dashboard.admission import NotAdmitted, observes, open_feed
from dashboard.auth import AuthConfig, FeedAuth, fetch_auth_config
from dashboard.backoff import Backoff
from dashboard.following import Following
from dashboard.frames import FrameHandler
from dashboard.history import HistorySource, HttpHistory
from dashboard.metrics import MetricsReader
from dashboard.settings import DashboardSettings
from dashboard.sockets import TOKEN_EXPIRED, ClosedByPeer, close_quietly, describe, recv_text
from dashboard.stats import fetch_stats
from dashboard.store import Link, LinkState, LiveStore, Snapshot

log = logging.getLogger("desafio.dashboard.feed")

RECV_TIMEOUT = 0.5  # how often a quiet connection wakes up to poll /stats
QUIET_PING = 15.0  # seconds without frames before an application ping
DEAD_AFTER = 45.0  # seconds without frames (not even a pong) before the link counts as lost
FAILURES_BEFORE_DOWN = 3  # failed reconnects before "reconnecting" becomes "backend down"
# A connection that ends sooner than this after it opened was not a success: the next attempt
# waits the growing backoff, so a room the backend cannot serve never makes a tight loop.
STABLE_SECONDS = 10.0


class LinkLost(Exception):
    """The backend closed the feed connection or stopped answering."""


class FeedClient:
    """Follows the backend's rooms in a daemon thread; `snapshot()` is safe from any thread."""

    def __init__(self, settings: DashboardSettings, history: HistorySource | None = None) -> None:
        self.settings = settings
        self.store = LiveStore(settings.feed_size, settings.series_size, settings.text_limit)
        self._http = httpx.Client(timeout=2.0)
        self.auth = FeedAuth(self._http, settings)
        # The backend's /auth/config as last read (None: not reached yet); the page reads it.
        self.auth_config: AuthConfig | None = None
        self._history = history or HttpHistory(self._http, settings.backend_url, self.auth.cached)
        self._stop = threading.Event()
        self._tried = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-feed", daemon=True)
        self.following = Following(
            settings.default_room, settings.max_rooms, settings.history_on_join
        )
        self._resumed = False
        self._metrics = MetricsReader(self._http, settings.backend_url)
        self._frames = FrameHandler(self.store, self.following, self._history, settings.feed_size)
        self.connections = 0  # feed connections opened so far (a renewed token needs none)

    def start(self) -> FeedClient:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._http.close()

    def wait_first_attempt(self, timeout: float) -> bool:
        """Block until the first connection attempt succeeded or failed (True), or timeout."""
        return self._tried.wait(timeout)

    def snapshot(self) -> Snapshot:
        return self.store.snapshot()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def last_ids(self) -> dict[str, int]:
        """Per room followed at least once, the last message id seen (see following.py)."""
        return self.following.last_ids

    def _run(self) -> None:
        backoff = Backoff(maximum=self.settings.backoff_max_seconds)
        failures = 0
        while not self._stop.is_set():
            try:
                ws = self._connect()
            except NotAdmitted as exc:
                delay = exc.retry_after or backoff.next()
                retry_at = time.monotonic() + delay
                self.store.set_link(Link(LinkState.UNAUTHORIZED, str(exc), failures, retry_at))
                self._tried.set()
                self._stop.wait(delay)
                continue
            except (OSError, websocket.WebSocketException) as exc:
                failures += 1
                delay = backoff.next()
                down = not self._resumed or failures >= FAILURES_BEFORE_DOWN
                state = LinkState.DOWN if down else LinkState.RECONNECTING
                self.store.set_link(Link(state, describe(exc), failures, time.monotonic() + delay))
                self._tried.set()
                self._stop.wait(delay)
                continue
            failures = 0
            self.connections += 1
            opened = time.monotonic()
            log.info("feed connected to %s", self.settings.ws_url)
            self.store.set_link(Link(LinkState.CONNECTED))
            self._tried.set()
            try:
                self._follow(ws)
            except (
                OSError,
                websocket.WebSocketException,
                LinkLost,
                ClosedByPeer,
                ValueError,
            ) as exc:
                if isinstance(exc, ClosedByPeer) and exc.code == TOKEN_EXPIRED:
                    self.auth.forget()
                log.warning("feed connection lost: %s", describe(exc))
                if time.monotonic() - opened >= STABLE_SECONDS:
                    backoff.reset()
                delay = 0.0 if self._stop.is_set() else backoff.next()
                retry_at = time.monotonic() + delay
                self.store.set_link(Link(LinkState.RECONNECTING, describe(exc), 0, retry_at))
                self._stop.wait(delay)
            finally:
                close_quietly(ws)
            self._resumed = True

    def _connect(self) -> websocket.WebSocket:
        # The last known answer survives an outage: the send box keeps its login form.
        config = fetch_auth_config(self._http, self.settings.backend_url)
        self.auth_config = config or self.auth_config
        ws = open_feed(self.settings, self.auth, self.auth_config, RECV_TIMEOUT + 4.5)
        observing = observes(self.settings, self.auth.cached())
        self.following.own = 0 if observing else 1
        self.store.set_observing(observing)
        return ws

    def _follow(self, ws: websocket.WebSocket) -> None:
        ws.settimeout(RECV_TIMEOUT)
        for subscribe in self.following.rejoin():
            ws.send(json.dumps(subscribe))
        next_poll = 0.0
        last_frame = time.monotonic()
        pinged = False
        while not self._stop.is_set():
            if self.auth.due():
                self._renew(ws)
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + self.settings.poll_seconds
                self._poll(ws)
            try:
                frame = recv_text(ws)
            except websocket.WebSocketTimeoutException:
                quiet = time.monotonic() - last_frame
                if quiet > DEAD_AFTER:
                    raise LinkLost(f"no frames for {quiet:.0f}s") from None
                if quiet > QUIET_PING and not pinged:
                    ws.send('{"type":"ping"}')
                    pinged = True
                continue
            last_frame, pinged = time.monotonic(), False
            for line in frame.split("\n"):
                self._frames.handle(json.loads(line))

    def _renew(self, ws: websocket.WebSocket) -> None:
        """Swap in a fresh token before the backend closes the connection with 4001."""
        token = self.auth.renew()
        if token is not None:
            ws.send(json.dumps({"type": "auth", "token": token}))

    def _poll(self, ws: websocket.WebSocket) -> None:
        try:
            sample = fetch_stats(self._http, self.settings.backend_url, time.time())
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            log.warning("/stats unavailable: %s", describe(exc))
            return
        self.store.add_sample(sample)
        self.store.add_point(sample, self._metrics.read(sample.at))
        for change in self.following.replan(sample.rooms, sample.at):
            ws.send(json.dumps(change))
        self.store.set_rooms(self.following.rooms)
