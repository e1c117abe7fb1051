"""Admin actions (admin or service token): connections, users (disable, revoke, delete), and
publishing from the server."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from backend.auth.http import AdminDep, AuthDep, forbidden
from backend.auth.passwords import normalize
from backend.auth.service import AuthService
from backend.auth.users import UserStore
from backend.closecodes import CloseCode
from backend.deps import HubDep
from backend.protocol import ROOM_PATTERN, MessageData, MessageText, Ref
from backend.storage import StorageError

router = APIRouter(tags=["admin"])

KICKED = "kicked by an admin"


class ServerMessage(BaseModel):
    text: MessageText
    data: MessageData | None = None
    ref: Ref | None = None


@router.get("/admin/connections")
async def connections(hub: HubDep, auth: AuthDep, admin: AdminDep) -> dict[str, Any]:
    """This instance's connections: key (for kicking), name, sender id, whether authenticated,
    mode, observer, rooms, queued frames and age in seconds (the dashboard's connection list)."""
    listed = []
    now = time.monotonic()
    for key, conn in hub.connections.items():
        identity = auth.identities.get(key)
        listed.append(
            {
                "key": key,
                "name": conn.name,
                "sender_id": conn.sender.id,
                "authenticated": bool(identity and identity.authenticated),
                "mode": conn.mode.value,
                "observer": conn.observer,
                "rooms": sorted(conn.rooms),
                "queued": conn.queued,
                "age_seconds": round(now - conn.opened, 1),
            }
        )
    return {"instance": hub.instance, "connections": listed}


@router.post("/admin/connections/{key}/kick")
async def kick_connection(hub: HubDep, admin: AdminDep, key: str) -> dict[str, int]:
    """Close one connection with 4002; 404 when it is not on this instance."""
    conn = hub.connections.get(key)
    if conn is None:
        raise HTTPException(404, "no such connection on this instance")
    conn.close(CloseCode.KICKED, KICKED)
    return {"kicked": 1}


@router.post("/admin/users/{username}/disable")
async def disable_user(auth: AuthDep, admin: AdminDep, username: str) -> dict[str, int]:
    """Refuse the user's logins and tokens (socket and HTTP) and close their sockets here;
    other instances follow within ACCOUNT_CACHE_SECONDS. 404 when there is no such user."""
    name = normalize(username)
    if not await _users(auth).set_disabled(name, True):
        raise HTTPException(404, "no such user")
    return {"closed": auth.revoked(name)}


@router.post("/admin/users/{username}/enable")
async def enable_user(auth: AuthDep, admin: AdminDep, username: str) -> dict[str, int]:
    """Undo a disable: logins work again (and tokens not revoked meanwhile)."""
    name = normalize(username)
    if not await _users(auth).set_disabled(name, False):
        raise HTTPException(404, "no such user")
    auth.accounts.forget(name)
    return {"closed": 0}


@router.post("/admin/users/{username}/revoke")
async def revoke_user(auth: AuthDep, admin: AdminDep, username: str) -> dict[str, int]:
    """Log the user out everywhere: every token issued so far is refused."""
    name = normalize(username)
    if not await _users(auth).revoke_tokens(name):
        raise HTTPException(404, "no such user")
    return {"closed": auth.revoked(name)}


@router.delete("/admin/users/{username}")
async def delete_user(auth: AuthDep, admin: AdminDep, username: str) -> dict[str, int]:
    """Delete the account, its push subscriptions and follows; its tokens are refused (a new
    account under the same name gets a new id). Stored messages stay, as history."""
    name = normalize(username)
    if not await _users(auth).delete(name):
        raise HTTPException(404, "no such user")
    return {"closed": auth.revoked(name)}


def _users(auth: AuthService) -> UserStore:
    if not auth.users.available:
        raise HTTPException(503, "user accounts need a database (DATABASE_URL is none)")
    return auth.users


@router.post("/admin/users/{username}/kick")
async def kick_user(hub: HubDep, auth: AuthDep, admin: AdminDep, username: str) -> dict[str, int]:
    """Close every authenticated connection of a user on this instance with 4002."""
    name = normalize(username)
    kicked = 0
    for key, identity in list(auth.identities.items()):
        conn = hub.connections.get(key)
        if conn is not None and identity.authenticated and identity.name == name:
            conn.close(CloseCode.KICKED, KICKED)
            kicked += 1
    return {"kicked": kicked}


# Publish refusals that are not outages: the status each one answers with.
_REFUSED = {"ref_reused": 409, "quota_exceeded": 429, "invalid_data": 422}


@router.post("/rooms/{room}/messages", status_code=201)
async def publish(
    hub: HubDep,
    admin: AdminDep,
    body: ServerMessage,
    room: Annotated[str, Path(pattern=ROOM_PATTERN, description="Room name")],
) -> dict[str, Any]:
    """Publish into any room as the token's subject (a bot, an alert); answers once stored."""
    if admin.rooms is not None and room not in admin.rooms:
        raise forbidden(f"not allowed in room {room!r}")  # the token's allow-list holds here too
    sender = admin.sender()
    try:
        envelope = await hub.publish_as(sender, room, body.text, body.data, body.ref)
    except StorageError as exc:
        if exc.code in _REFUSED:  # this publish's own fault: retrying it will not help
            raise HTTPException(_REFUSED[exc.code], exc.detail) from None
        raise HTTPException(503, exc.detail, headers={"Retry-After": "5"}) from None
    return {
        "id": envelope.id,
        "room": envelope.room,
        "sender": envelope.sender,
        "sender_id": envelope.sender_id,
        "ts": envelope.ts,
    }
