"""Logging in to the backend: `GET /auth/config`, the OAuth2 password login, the feed's token.

Nothing here knows about Streamlit. Tokens and passwords are never logged nor put in a repr.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass, field

import httpx

from dashboard.settings import DashboardSettings

log = logging.getLogger("desafio.dashboard.auth")

MISSING_CREDENTIALS = (
    "The backend requires authentication: set DASHBOARD_TOKEN or "
    "DASHBOARD_USERNAME/DASHBOARD_PASSWORD"
)
# A refused login is not retried sooner: the backend counts failures per user, and a dashboard
# retrying a wrong password every few seconds would lock the real user out.
REFUSED_RETRY = 60.0


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """What the backend asks of clients (`GET /auth/config`)."""

    auth_required: bool
    registration_open: bool = False


def fetch_auth_config(http: httpx.Client, backend_url: str) -> AuthConfig | None:
    """The backend's auth settings; None when it does not answer (or predates auth)."""
    try:
        response = http.get(backend_url + "/auth/config")
        response.raise_for_status()
        body = response.json()
        return AuthConfig(bool(body["auth_required"]), bool(body.get("registration_open")))
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


class LoginFailed(Exception):
    """A login the backend refused or could not answer; the message is fit for the page."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user: the token's subject, the token, and when (wall clock) it expires."""

    username: str
    token: str = field(repr=False)
    expires_at: float
    lifetime: float

    def remaining(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(http: httpx.Client, backend_url: str, username: str, password: str) -> Session:
    """`POST /auth/token`; raises LoginFailed with the backend's reason in plain words."""
    if not username.strip() or not password:
        raise LoginFailed("Enter a username and a password.")
    try:
        response = http.post(
            backend_url + "/auth/token", data={"username": username, "password": password}
        )
    except httpx.HTTPError as exc:
        raise LoginFailed(f"Backend unavailable ({type(exc).__name__}); not logged in.") from None
    if response.status_code == 429:
        retry = _int(response.headers.get("Retry-After"))
        raise LoginFailed(f"Too many attempts, retry in {retry} s.", retry)
    if response.status_code == 401:
        raise LoginFailed(f"Login refused: {_detail(response)}.")
    if response.status_code == 422:
        raise LoginFailed("Enter a username (up to 32 characters) and a password.")
    if response.status_code != 200:
        raise LoginFailed(f"Login failed: {_detail(response)}.")
    try:
        body = response.json()
        token, lifetime = str(body["access_token"]), float(body["expires_in"])
    except (ValueError, KeyError, TypeError):
        raise LoginFailed("Login failed: the backend's answer has no token.") from None
    claims = token_claims(token)
    # The backend normalizes names (case-insensitive): the token's subject is who sends.
    subject = str(claims.get("sub") or username)
    # `exp` is whole seconds, up to one before now + expires_in: the backend goes by `exp`.
    exp = claims.get("exp")
    expires_at = float(exp) if isinstance(exp, int | float) else time.time() + lifetime
    return Session(subject, token, expires_at, lifetime)


def token_claims(token: str) -> dict[str, object]:
    """The claims, read without verifying: only for display and timing, the backend verifies."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


class FeedAuth:
    """The feed connection's credentials: a fixed DASHBOARD_TOKEN, or a login renewed in time."""

    def __init__(self, http: httpx.Client, settings: DashboardSettings) -> None:
        self._http = http
        self._url = settings.backend_url
        self._fixed = settings.token or None
        self._username = settings.username
        self._password = settings.password
        self._session: Session | None = None
        self._next_try = 0.0  # monotonic: no renewal attempt before this

    @property
    def configured(self) -> bool:
        return self._fixed is not None or bool(self._username and self._password)

    @property
    def username(self) -> str:
        return self._username

    def token(self) -> str | None:
        """The token to connect with, logging in first if needed; LoginFailed if refused."""
        if self._fixed is not None or not self.configured:
            return self._fixed
        if self._session is None or self.due():
            self._session = login(self._http, self._url, self._username, self._password)
        return self._session.token

    def cached(self) -> str | None:
        """The current token without logging in (for history requests)."""
        return self._fixed or (self._session.token if self._session else None)

    def due(self) -> bool:
        """A login-based token close enough to expiry to renew now."""
        if self._session is None or time.monotonic() < self._next_try:
            return False
        # A minute ahead for usual lifetimes; a third of very short ones, yet at least 2 s for
        # the login itself (password hashing is slow on purpose).
        margin = max(2.0, min(60.0, self._session.lifetime / 3))
        return self._session.remaining() < margin

    def renew(self) -> str | None:
        """A fresh token for the open connection, or None (retried later) if the login fails."""
        try:
            self._session = login(self._http, self._url, self._username, self._password)
        except LoginFailed as exc:
            log.warning("feed token renewal failed: %s", exc)
            self._next_try = time.monotonic() + (exc.retry_after or 10.0)
            return None
        return self._session.token

    def forget(self) -> None:
        """Drop a token the backend refused or expired: the next connection logs in again."""
        self._session = None
