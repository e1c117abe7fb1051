"""Filling the feed's gap after a reconnect from the backend's message history.

The history endpoint (`GET /rooms/{room}/messages?after=&limit=`) belongs to the persistence
work. Until a backend serves it, `HttpHistory` finds a 404 once and stops asking.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

log = logging.getLogger("desafio.dashboard.history")
_NO_ROUTE = '{"detail":"Not Found"}'


class HistorySource(Protocol):
    """Where the feed client asks for the messages of a room it missed."""

    def after(self, room: str, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Messages of `room` with id > after_id, oldest first, at most `limit`."""
        ...


class HttpHistory:
    """The backend's history over HTTP; answers nothing if the backend has none."""

    def __init__(self, client: httpx.Client, backend_url: str) -> None:
        self._client = client
        self._url = backend_url
        self.available = True

    def after(self, room: str, after_id: int, limit: int) -> list[dict[str, Any]]:
        if not self.available:
            return []
        try:
            response = self._client.get(
                f"{self._url}/rooms/{room}/messages", params={"after": after_id, "limit": limit}
            )
        except httpx.HTTPError as exc:
            log.warning("history of room %s unavailable: %s", room, type(exc).__name__)
            return []
        if response.status_code == 404 and response.text == _NO_ROUTE:
            # FastAPI's bare 404 means the route does not exist at all (not "no such room").
            log.info("backend serves no message history; gaps after reconnects stay gaps")
            self.available = False
            return []
        if response.status_code != 200:
            return []
        body = response.json()
        items = body.get("messages", []) if isinstance(body, dict) else body
        return [item for item in items if isinstance(item, dict)][-limit:]
