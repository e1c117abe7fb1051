"""HTTP dependencies: the AuthService, the caller's identity from `Authorization: Bearer`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from backend.auth.accounts import AccountsUnavailable
from backend.auth.rooms import Identity
from backend.auth.service import AuthService
from backend.auth.tokens import InvalidToken

# auto_error=False: a missing token is our decision (anonymous may be fine), not a blanket 401.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_auth(conn: HTTPConnection) -> AuthService:
    auth: AuthService = conn.app.state.auth
    return auth


AuthDep = Annotated[AuthService, Depends(get_auth)]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> HTTPException:
    return HTTPException(403, detail)


async def optional_identity(
    auth: AuthDep, token: Annotated[str | None, Depends(_bearer)]
) -> Identity | None:
    """The bearer's identity; None without a token; 401 for a token that is not valid."""
    if token is None:
        return None
    try:
        # The signature, and the account behind it: deleted, disabled or revoked -> 401.
        return await auth.verify(token)
    except InvalidToken as exc:
        raise unauthorized(exc.detail) from None
    except AccountsUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None


OptionalIdentityDep = Annotated[Identity | None, Depends(optional_identity)]


async def admin_identity(identity: OptionalIdentityDep) -> Identity:
    """An admin (or service) token, or 401/403."""
    if identity is None:
        raise unauthorized("an admin token is required")
    if not identity.is_admin:
        raise forbidden("admin role required")
    return identity


AdminDep = Annotated[Identity, Depends(admin_identity)]


async def account_identity(identity: OptionalIdentityDep) -> Identity:
    """A registered user's own token (not a service token), or 401."""
    if identity is None or identity.user_id is None:
        raise unauthorized("a registered user's token is required")
    return identity


AccountDep = Annotated[Identity, Depends(account_identity)]


def check_room_read(auth: AuthService, identity: Identity | None, room: str) -> None:
    """History over HTTP follows the WebSocket rules: same token, same rooms."""
    if identity is None:
        if auth.required or auth.policy.is_private(room):
            raise unauthorized("a valid token is required")
        return
    if not auth.may_enter(identity, room):
        raise forbidden(f"not allowed in room {room!r}")
