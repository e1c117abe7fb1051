"""Opening the feed connection: with the feed's token, or not at all when one is missing.

An outage (retry soon, "backend down") and a credentials problem (the operator must act) look
different on the page, so the latter is its own exception.
"""

from __future__ import annotations

from urllib.parse import urlencode

import websocket

from dashboard.auth import (
    MISSING_CREDENTIALS,
    REFUSED_RETRY,
    AuthConfig,
    FeedAuth,
    LoginFailed,
    bearer,
    token_claims,
)
from dashboard.settings import DashboardSettings
from dashboard.sockets import refusal_code, refusal_detail


class NotAdmitted(Exception):
    """No connection without (other) credentials; `retry_after` is set when it is known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def observes(settings: DashboardSettings, token: str | None) -> bool:
    """Whether the feed connects as an observer nobody sees: only an admin token may (the
    backend checks; the claim is read here only to avoid a refused handshake)."""
    return settings.observe and token is not None and token_claims(token).get("role") == "admin"


def open_feed(
    settings: DashboardSettings, auth: FeedAuth, config: AuthConfig | None, timeout: float
) -> websocket.WebSocket:
    """The feed's JSON connection; NotAdmitted for missing or refused credentials."""
    try:
        token = auth.token()
    except LoginFailed as exc:
        wait = exc.retry_after or REFUSED_RETRY
        raise NotAdmitted(
            f"The dashboard could not log in as {auth.username}: {exc}", wait
        ) from None
    if token is None and config is not None and config.auth_required:
        # A JSON connection without a token would only be held, then closed: do not open one.
        raise NotAdmitted(MISSING_CREDENTIALS)
    params = {"format": "json", "name": settings.feed_name}
    if observes(settings, token):
        params["observe"] = "1"
    # A header rather than ?token=: URLs end up in access logs.
    header = bearer(token) if token else {}
    try:
        try:
            return websocket.create_connection(
                f"{settings.ws_url}?{urlencode(params)}", timeout=timeout, header=header
            )
        except websocket.WebSocketBadStatusException as exc:
            if token is not None or refusal_code(exc) != "name_reserved":
                raise
            # Without a token the feed is a guest, and the name is kept for an account or a
            # service (the dashboard's own token, minted on this database): a guest may not
            # pass for it, so the feed goes by a guest name the backend gives.
            del params["name"]
            return websocket.create_connection(
                f"{settings.ws_url}?{urlencode(params)}", timeout=timeout, header=header
            )
    except websocket.WebSocketBadStatusException as exc:
        if exc.status_code != 403:
            raise
        auth.forget()
        if token is None:
            raise NotAdmitted(MISSING_CREDENTIALS) from None
        detail = refusal_detail(exc)
        raise NotAdmitted(f"The backend refused the dashboard's credentials: {detail}") from None
