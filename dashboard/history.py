"""The backend's stored messages over HTTP, for when a gap is too big to replay.

Catching up normally goes through the socket (subscribe with `since`); the server answers
`recovered: false` when it cannot, and the feed then reloads a room's latest messages from
`GET /rooms/{room}/messages`, which answers `{"room": ..., "messages": [oldest ... newest]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import httpx

log = logging.getLogger("desafio.dashboard.history")


class HistorySource(Protocol):
    """Where the feed client reads a room's stored messages."""

    def latest(self, room: str, limit: int) -> list[dict[str, Any]] | None:
        """The newest `limit` messages of `room`, oldest first; None when unreadable."""
        ...


class HttpHistory:
    """The backend's history endpoint; `token` gives the bearer token to send, if any.

    A callable rather than a string: the feed's token is renewed while it runs.
    """

    def __init__(
        self,
        client: httpx.Client,
        backend_url: str,
        token: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._client = client
        self._url = backend_url
        self._token = token

    def latest(self, room: str, limit: int) -> list[dict[str, Any]] | None:
        token = self._token()
        # Private rooms, and every room when the backend requires auth, answer 401 without it.
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self._client.get(
                f"{self._url}/rooms/{room}/messages", params={"limit": limit}, headers=headers
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("history of room %s unavailable: %s", room, type(exc).__name__)
            return None
        return parse_messages(body)


def parse_messages(body: object) -> list[dict[str, Any]] | None:
    """The messages of a history answer, or None if it does not have the documented shape."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return None
    return [
        item
        for item in body["messages"]
        if isinstance(item, dict) and isinstance(item.get("id"), int)
    ]
