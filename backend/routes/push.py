"""`/push/*`: the VAPID public key, the caller's subscriptions and the rooms they follow."""

from __future__ import annotations

import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field, field_validator
from starlette.requests import HTTPConnection
from starlette.responses import Response

from backend.auth.http import AuthDep, OptionalIdentityDep, forbidden, unauthorized
from backend.auth.rooms import Identity
from backend.protocol import ROOM_PATTERN
from backend.push import PushService, endpoints
from backend.push.keys import b64url_decode
from backend.push.store import (
    EndpointTaken,
    Subscription,
    TooManyFollows,
    TooManySubscriptions,
)

router = APIRouter(prefix="/push", tags=["push"])

Room = Annotated[str, Path(pattern=ROOM_PATTERN, description="Room name")]


def _decoded_length(value: str) -> int:
    try:
        return len(b64url_decode(value))
    except (binascii.Error, ValueError):
        return -1


class Keys(BaseModel):
    # The browser's P-256 public key (uncompressed point) and 16-byte auth secret, base64url.
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        if _decoded_length(value) != 65:
            raise ValueError("p256dh must be a base64url P-256 public key (65 bytes)")
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        if _decoded_length(value) != 16:
            raise ValueError("auth must be a base64url 16-byte secret")
        return value


class SubscriptionIn(BaseModel):
    """PushSubscription.toJSON(), as the browser gives it."""

    endpoint: str = Field(max_length=2048)
    keys: Keys
    expirationTime: float | None = None  # the browser's own field name, unused


class Unsubscription(BaseModel):
    endpoint: str = Field(max_length=2048)


def get_push(conn: HTTPConnection) -> PushService:
    push: PushService | None = conn.app.state.push
    if push is None:
        raise HTTPException(404, "push notifications are not enabled on this server")
    return push


PushDep = Annotated[PushService, Depends(get_push)]


async def user_identity(identity: OptionalIdentityDep) -> Identity:
    """Subscriptions are per user: a guest name is nobody's to notify."""
    if identity is None or not identity.authenticated:
        raise unauthorized("log in to receive push notifications")
    return identity


UserDep = Annotated[Identity, Depends(user_identity)]


async def check_endpoint(push: PushService, endpoint: str) -> None:
    """The server will POST to this URL: only to a push service, never somewhere internal
    (backend/push/endpoints.py: the HTTP client's own parser, https, allow-list, public DNS)."""
    try:
        await endpoints.check(endpoint, push.sender.policy)
    except endpoints.BadEndpoint as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/config")
async def push_config(conn: HTTPConnection) -> dict[str, object]:
    """Whether push is on, and the key browsers subscribe with (`applicationServerKey`)."""
    push: PushService | None = conn.app.state.push
    if push is None:
        return {"enabled": False, "public_key": None}
    return {"enabled": True, "public_key": push.key.public_key}


@router.get("/subscriptions")
async def subscriptions(push: PushDep, user: UserDep) -> dict[str, list[str]]:
    """The caller's subscribed endpoints (a browser can tell whether it is among them)."""
    return {"endpoints": [sub.endpoint for sub in await push.store.subscriptions(user.name)]}


@router.post("/subscriptions", status_code=201)
async def subscribe(body: SubscriptionIn, push: PushDep, user: UserDep) -> dict[str, str]:
    """Store the browser's subscription for the caller. An endpoint registered by another
    user stays theirs: 409 (that browser unsubscribes and subscribes anew for a new one)."""
    await check_endpoint(push, body.endpoint)
    sub = Subscription(user.name, body.endpoint, body.keys.p256dh, body.keys.auth)
    try:
        await push.store.subscribe(sub, push.settings.push_max_subscriptions_per_user)
    except TooManySubscriptions:
        raise HTTPException(409, "too many subscribed browsers; unsubscribe one first") from None
    except EndpointTaken:
        raise HTTPException(409, "this endpoint is registered by another user") from None
    return {"status": "subscribed"}


@router.delete("/subscriptions", status_code=204)
async def unsubscribe(body: Unsubscription, push: PushDep, user: UserDep) -> Response:
    if not await push.store.unsubscribe(user.name, body.endpoint):
        raise HTTPException(404, "no such subscription of yours")
    return Response(status_code=204)


@router.get("/follows")
async def follows(push: PushDep, user: UserDep) -> dict[str, list[str]]:
    return {"rooms": await push.store.following(user.name)}


@router.put("/follows/{room}", status_code=204)
async def follow(room: Room, push: PushDep, user: UserDep, auth: AuthDep) -> Response:
    """Be pushed this room's messages while not connected anywhere. At most
    PUSH_MAX_FOLLOWS_PER_USER rooms (409 past it); following one again is not counted twice."""
    if not auth.may_enter(user, room):
        raise forbidden(f"not allowed in room {room!r}")
    limit = push.settings.push_max_follows_per_user
    try:
        await push.store.follow(user.name, room, limit)
    except TooManyFollows:
        detail = f"too many followed rooms (at most {limit}); unfollow one first"
        raise HTTPException(409, detail) from None
    push.notifier.followed(user.name, room, following=True)
    return Response(status_code=204)


@router.delete("/follows/{room}", status_code=204)
async def unfollow(room: Room, push: PushDep, user: UserDep) -> Response:
    await push.store.unfollow(user.name, room)
    push.notifier.followed(user.name, room, following=False)
    return Response(status_code=204)
