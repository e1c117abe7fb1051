"""Which rooms a visitor of the page may read: the backend decides, never the feed's token.

The feed connection may run with an admin DASHBOARD_TOKEN and so receive private rooms' messages.
The page shows each visitor only the rooms *their own* credentials could read: none for a
visitor who never logged in (open rooms only), the send box's login otherwise. The answer comes
from the backend's history endpoint, the same rule as the socket's: `GET /rooms/{room}/messages
?limit=1` with the visitor's token (or none) answers 200 only when they may read the room.
Answers are cached per (visitor, room) for CACHE_SECONDS and used without asking while fresh;
past that the backend is asked again, and when it cannot answer the room is hidden (fail
closed): a stale answer is never used, as access may have been taken away since.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable

import httpx

CACHE_SECONDS = 30.0
# (visitor, room) answers kept at most: many visitors times many rooms stay bounded.
MAX_ENTRIES = 10_000


class RoomVisibility:
    def __init__(self, backend_url: str, timeout: float = 2.0) -> None:
        self._url = backend_url
        self._http = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}

    def close(self) -> None:
        self._http.close()

    def readable(self, rooms: Iterable[str], token: str | None) -> set[str]:
        """The rooms among `rooms` that a visitor with `token` (None: not logged in) may read."""
        return {room for room in rooms if self.may_read(room, token)}

    def may_read(self, room: str, token: str | None) -> bool:
        # The token itself is never kept as a key: only a digest of it.
        visitor = hashlib.sha256(token.encode()).hexdigest() if token else ""
        key = (visitor, room)
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        answer = self._ask(room, token)
        if answer is None:  # no verdict, and any earlier one is stale (else returned above)
            return False
        with self._lock:
            if len(self._answers) >= MAX_ENTRIES:
                self._answers.clear()
            self._answers[key] = (now, answer)
        return answer

    def _ask(self, room: str, token: str | None) -> bool | None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self._http.get(
                f"{self._url}/rooms/{room}/messages", params={"limit": 1}, headers=headers
            )
        except httpx.HTTPError:
            return None
        if response.status_code == 200:
            return True
        if response.status_code in (400, 401, 403, 404, 422):
            return False
        return None  # 429/503 and the like: no verdict
