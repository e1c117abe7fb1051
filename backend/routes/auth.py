"""`/auth/*`: registration, login (OAuth2 password flow), logout, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from backend.auth.http import AccountDep, AuthDep, unauthorized
from backend.auth.names import Username
from backend.auth.passwords import PASSWORD_MAX, PASSWORD_MIN, HashBusy, normalize
from backend.auth.service import TooManyAttempts
from backend.auth.users import NoUserStore

router = APIRouter(prefix="/auth", tags=["auth"])

Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
# What registration answers whether or not the name was free (no enumeration of accounts).
REGISTERED = "registered unless the name, or one that looks like it, is taken: log in to check"


class Registration(BaseModel):
    username: Username
    password: Password


class PasswordChange(BaseModel):
    old_password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]
    new_password: Password


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limited(exc: TooManyAttempts | HashBusy) -> HTTPException:
    if isinstance(exc, HashBusy):
        detail = "the server is busy checking passwords; retry shortly"
        return HTTPException(503, detail, headers={"Retry-After": str(exc.retry_after)})
    return HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


@router.get("/config")
async def auth_config(auth: AuthDep) -> dict[str, bool]:
    """What a client must offer: a login form when auth is required, a sign-up when open."""
    return {
        "auth_required": auth.required,
        "registration_open": auth.registration_open and auth.users.available,
    }


@router.post("/register", status_code=201)
async def register(body: Registration, request: Request, auth: AuthDep) -> dict[str, str]:
    """Create a user (role `user`). The answer is the same whether the name was free or taken
    (or looks like a taken one), and so is its timing: accounts cannot be enumerated here.
    The client logs in to learn whether the account is theirs. 403 when registration is
    closed, 429/503 over the registration or hashing budget."""
    if not auth.registration_open:
        raise HTTPException(403, "registration is closed")
    try:
        await auth.register(body.username, body.password, client_address(request))
    except (TooManyAttempts, HashBusy) as exc:
        raise _limited(exc) from None
    except NoUserStore as exc:
        raise HTTPException(503, str(exc)) from None
    return {"username": normalize(body.username), "status": REGISTERED}


@router.post("/token")
async def token(
    request: Request,
    auth: AuthDep,
    username: Annotated[str, Form(min_length=1, max_length=32)],
    password: Annotated[str, Form(min_length=1, max_length=PASSWORD_MAX)],
) -> TokenAnswer:
    """OAuth2 password flow: form fields `username` and `password` give a bearer token."""
    if not auth.tokens.can_issue:
        raise HTTPException(503, "this server verifies tokens but does not issue them")
    try:
        user = await auth.login(username, password, client_address(request))
    except (TooManyAttempts, HashBusy) as exc:
        raise _limited(exc) from None
    except NoUserStore as exc:
        raise HTTPException(503, str(exc)) from None
    if user is None:
        raise unauthorized("wrong username or password")
    access_token, expires_in = auth.issue(user)
    return TokenAnswer(access_token=access_token, expires_in=expires_in)


@router.post("/logout", status_code=204)
async def logout(auth: AuthDep, user: AccountDep) -> Response:
    """Revoke every token of the caller (every device), and close their sockets."""
    await auth.logout(user)
    return Response(status_code=204)


@router.post("/password", status_code=204)
async def change_password(
    body: PasswordChange, request: Request, auth: AuthDep, user: AccountDep
) -> Response:
    """Change the caller's password; every token issued before is revoked (log in again).
    A wrong old password: 401, counted like a failed login."""
    try:
        changed = await auth.change_password(
            user, body.old_password, body.new_password, client_address(request)
        )
    except (TooManyAttempts, HashBusy) as exc:
        raise _limited(exc) from None
    if not changed:
        raise unauthorized("wrong password")
    return Response(status_code=204)


async def validation_without_input(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, minus each error's `input` and `ctx`: the input may be a password or a
    message's body, and NaN in it (which Python's JSON parser reads) made the answer itself
    fail with a 500 whose traceback held the body."""
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)
