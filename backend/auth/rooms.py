"""Who may enter which room: private rooms (settings) and the token's own allow-list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from backend.auth.names import confusable_keys
from backend.identity import Sender, service, user

Role = Literal["user", "admin"]


class RoomAccess(BaseModel):
    """Who is let into one private room: these users, and anyone with one of these roles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: frozenset[str] = frozenset()
    roles: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Identity:
    """Who is behind a connection or a request.

    Anonymous identities (AUTH_REQUIRED=false, no token) carry a guest name, no role, and are
    let into open rooms only. `rooms`, when not None, is the token's allow-list.
    """

    name: str
    authenticated: bool = False
    role: Role | None = None
    rooms: frozenset[str] | None = None
    # Unix time at which the token stops being valid; None for anonymous identities.
    expires: float | None = None
    # The registered user's stable id (users.id, the token's `uid`): None for guests and for
    # service tokens. backend/identity.py makes the sender id "u:<user_id>" from it.
    user_id: str | None = None
    # The token's `ver` (users.token_version when issued); a bump revokes the token.
    token_version: int | None = None
    # A token minted by `python -m backend.auth token` (claim `svc`), not tied to an account.
    service: bool = False

    def sender(self) -> Sender:
        """Who this identity publishes as (backend/identity.py): never decided by a name alone."""
        if self.service or self.user_id is None:
            return service(self.name)
        return user(self.user_id, self.name)

    @property
    def is_admin(self) -> bool:
        return self.authenticated and self.role == "admin"


def anonymous(name: str) -> Identity:
    return Identity(name=name)


class RoomPolicy:
    """Decides room by room; every way into a room (WebSocket, history) asks this one object."""

    def __init__(self, private: Mapping[str, RoomAccess]) -> None:
        self.private = dict(private)
        # A room whose name looks like a private room's ("STAFF", "Staff" beside "staff") is
        # let into by the same people: open, it would be where an impostor waits for the
        # members who mistype, or who trust a link.
        self._alike = {
            key: access for room, access in self.private.items() for key in _room_keys(room)
        }

    def _access(self, room: str) -> RoomAccess | None:
        if not self._alike:
            return None
        if (access := self.private.get(room)) is not None:
            return access
        # Every key either name may be read as: "Infra" also reads as "lnfra" (a capital I).
        return next((a for key in _room_keys(room) if (a := self._alike.get(key))), None)

    def is_private(self, room: str) -> bool:
        return self._access(room) is not None

    def allows(self, identity: Identity, room: str) -> bool:
        # The token's allow-list restricts even open rooms: a bot token for "alerts" stays there.
        if identity.rooms is not None and room not in identity.rooms:
            return False
        access = self._access(room)
        if access is None:
            return True
        if not identity.authenticated:
            return False
        return identity.name in access.users or (
            identity.role is not None and identity.role in access.roles
        )


@lru_cache(maxsize=4096)
def _room_keys(room: str) -> frozenset[str]:
    # Bounded: every frame names a room, and an attacker can name endless ones.
    return confusable_keys(room)
