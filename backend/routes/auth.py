"""`/auth/*`: registration, login (OAuth2 password flow), and what the clients need to know."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from backend.auth.http import AuthDep, unauthorized
from backend.auth.passwords import PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN
from backend.auth.service import TooManyAttempts
from backend.auth.users import NoUserStore, UsernameTaken

router = APIRouter(prefix="/auth", tags=["auth"])

Username = Annotated[
    str, Field(pattern=USERNAME_PATTERN, description="3-32 of A-Z a-z 0-9 _ . - (case-insensitive)")
]
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class Registration(BaseModel):
    username: Username
    password: Password


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.get("/config")
async def auth_config(auth: AuthDep) -> dict[str, bool]:
    """What a client must offer: a login form when auth is required, a sign-up when open."""
    return {
        "auth_required": auth.required,
        "registration_open": auth.registration_open and auth.users.available,
    }


@router.post("/register", status_code=201)
async def register(body: Registration, auth: AuthDep) -> dict[str, str]:
    """Create a user (role `user`). 409 when the name is taken, 403 when registration is closed."""
    if not auth.registration_open:
        raise HTTPException(403, "registration is closed")
    try:
        user = await auth.register(body.username, body.password)
    except UsernameTaken:
        raise HTTPException(409, "username is taken") from None
    except NoUserStore as exc:
        raise HTTPException(503, str(exc)) from None
    return {"username": user.username, "role": user.role}


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
    address = request.client.host if request.client else "unknown"
    try:
        user = await auth.login(username, password, address)
    except TooManyAttempts as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    except NoUserStore as exc:
        raise HTTPException(503, str(exc)) from None
    if user is None:
        raise unauthorized("wrong username or password")
    access_token, expires_in = auth.tokens.issue(user.username, user.role)
    return TokenAnswer(access_token=access_token, expires_in=expires_in)


async def validation_without_input(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, minus each error's `input` under /auth, where it could be a password."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith("/auth/"):
        return await request_validation_exception_handler(request, exc)
    errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)
