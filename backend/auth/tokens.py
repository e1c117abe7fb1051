"""JWTs: issued at login, verified at every way in. One algorithm, the configured one."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from backend.auth.rooms import Identity, Role
from backend.config import Settings, weak_secret

log = logging.getLogger("desafio.auth")

ROLES: tuple[Role, ...] = ("user", "admin")


class InvalidToken(Exception):
    """A token that grants nothing; `expired` tells an expired one from a bad one."""

    def __init__(self, detail: str, expired: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.expired = expired


class Tokens:
    """Signs and verifies access tokens with the key and algorithm of the settings."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm
        self.ttl = settings.token_ttl_seconds
        self._signing: Any = None
        self._verifying: Any
        if self.algorithm == "RS256":
            if settings.jwt_private_key_file:
                self._signing = Path(settings.jwt_private_key_file).read_bytes()
            if settings.jwt_public_key_file:
                self._verifying = Path(settings.jwt_public_key_file).read_bytes()
            else:
                # No key to verify with: nothing can be verified, and nothing issued either.
                self._verifying = None
                self._signing = None
            return
        secret = settings.jwt_secret.get_secret_value()
        if weak_secret(secret):
            # AUTH_REQUIRED refuses this at start-up. Without it, tokens stay optional: sign with
            # a random key of this process rather than one an attacker could guess (tokens then
            # last until a restart and are not shared by other instances).
            log.warning("JWT_SECRET unset or weak: using a random key for this process only")
            secret = secrets.token_urlsafe(48)
        self._signing = self._verifying = secret

    @property
    def can_issue(self) -> bool:
        return self._signing is not None

    def issue(
        self,
        subject: str,
        role: Role = "user",
        rooms: list[str] | None = None,
        ttl: int | None = None,
        *,
        user_id: str | None = None,
        version: int = 0,
    ) -> tuple[str, int]:
        """A signed token for `subject` and how many seconds it is valid.

        With `user_id`, a user's token (claims `uid`, `ver`: checked against the account at
        every use); without, a service token (claim `svc`) for a bot that has no account.
        """
        if self._signing is None:
            raise RuntimeError("no signing key configured (JWT_PRIVATE_KEY_FILE)")
        lifetime = ttl or self.ttl
        now = int(time.time())
        claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + lifetime, "role": role}
        if user_id is not None:
            claims["uid"] = user_id
            claims["ver"] = version
        else:
            claims["svc"] = True
            if version:  # the service's kept row was revoked this many times
                claims["ver"] = version
        if rooms is not None:
            claims["rooms"] = sorted(set(rooms))
        return jwt.encode(claims, self._signing, algorithm=self.algorithm), lifetime

    def verify(self, token: str) -> Identity:
        """The identity a token proves, or InvalidToken (never says why in detail to clients)."""
        if self._verifying is None:
            raise InvalidToken("this server has no key to verify tokens")
        try:
            # `algorithms` is the allow-list that refuses `alg: none` and algorithm swaps
            # (an HS256 token "signed" with the RS256 public key, say).
            claims = jwt.decode(
                token,
                self._verifying,
                algorithms=[self.algorithm],
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired", expired=True) from None
        except jwt.PyJWTError:
            raise InvalidToken("invalid token") from None
        return _identity(claims)


def _identity(claims: dict[str, Any]) -> Identity:
    subject, role, rooms = claims["sub"], claims.get("role", "user"), claims.get("rooms")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 64:
        raise InvalidToken("invalid token")
    if role not in ROLES:
        raise InvalidToken("invalid token")
    allowed: frozenset[str] | None = None
    if rooms is not None:
        if not isinstance(rooms, list) or not all(isinstance(r, str) for r in rooms):
            raise InvalidToken("invalid token")
        allowed = frozenset(rooms)
    uid, version, service = claims.get("uid"), claims.get("ver", 0), claims.get("svc", False)
    if uid is not None and not (isinstance(uid, str) and 1 <= len(uid) <= 64):
        raise InvalidToken("invalid token")
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(service, bool):
        raise InvalidToken("invalid token")
    if uid is not None and service:
        raise InvalidToken("invalid token")  # a user's token or a service's, never both
    return Identity(
        name=subject,
        authenticated=True,
        role=role,
        rooms=allowed,
        expires=float(claims["exp"]),
        user_id=uid,
        token_version=version if uid is not None or service else None,
        service=service,
    )
