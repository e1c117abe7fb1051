"""Who sent a message: the one identity that keys refs, ownership and "mine", never a typed name.

A display name is what a person chose to be called; two guests can both be "Bob". `Sender.id` is
what the server decided: `u:<user id>` for a registered user (from a verified token), `s:<name>`
for a service token (not tied to an account), `g:<hex>` for a guest (random per connection, or
derived from a client-session secret so that a guest's refs survive its reconnects). Clients are
told their own `Sender` in `welcome` and see `sender_id` and `guest` on every message and
presence entry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

USER_PREFIX = "u:"
GUEST_PREFIX = "g:"
# Tokens minted by `python -m backend.auth token` (bots, alerts): not tied to an account.
SERVICE_PREFIX = "s:"
# A client-session secret (`?session=`) long enough not to be guessed, short enough to be cheap.
SESSION_MIN, SESSION_MAX = 16, 128


@dataclass(frozen=True, slots=True)
class Sender:
    """The server-decided identity behind a connection (and the messages it publishes)."""

    id: str
    name: str

    @property
    def guest(self) -> bool:
        return self.id.startswith(GUEST_PREFIX)

    def public(self) -> dict[str, str | bool]:
        """As clients see it: `welcome.you`, roster entries."""
        return {"id": self.id, "name": self.name, "guest": self.guest}


def user(user_id: str, name: str) -> Sender:
    return Sender(USER_PREFIX + user_id, name)


def service(name: str) -> Sender:
    return Sender(SERVICE_PREFIX + name, name)


def guest(name: str | None, session: str | None = None) -> Sender:
    """A guest (named `guest-<hex>` unless it chose a name); the same `session` secret always
    gives the same id, and only that secret does."""
    if session is None:
        tag = secrets.token_hex(8)
    else:
        tag = hashlib.sha256(b"desafio-guest-session:" + session.encode()).hexdigest()[:16]
    return Sender(GUEST_PREFIX + tag, name or f"guest-{tag[:6]}")


def valid_session(value: str) -> bool:
    """A client-session secret: 16-128 URL-safe characters."""
    return SESSION_MIN <= len(value) <= SESSION_MAX and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in value
    )
