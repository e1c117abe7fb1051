"""The broker interface: how instances share the messages of a room, and in which order."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any, Literal, Protocol


class BrokerUnavailable(Exception):
    """The broker cannot be reached now; the message was not sent (the client may retry)."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as a client sent it, before the broker gives it its place in the room."""

    room: str
    sender: str
    text: str
    data: dict[str, Any] | None
    # `instance:connection` of the sender, so that no instance echoes it back to its author.
    origin: str
    # The id must be greater than this: the newest id the store holds for the room, so numbering
    # continues across restarts of a broker that keeps no state (memory://).
    floor: int = 0


@dataclass(frozen=True, slots=True)
class Envelope:
    """A sequenced message: `id` increases within `room` in the one order every subscriber sees."""

    room: str
    id: int
    ts: str
    sender: str
    text: str
    data: dict[str, Any] | None
    origin: str

    def as_message(self) -> dict[str, Any]:
        return {
            "type": "message",
            "id": self.id,
            "room": self.room,
            "sender": self.sender,
            "text": self.text,
            "data": self.data,
            "ts": self.ts,
        }


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    """Someone joined or left a room on some instance; `count` is the room's cluster-wide size."""

    room: str
    event: Literal["join", "leave"]
    name: str
    # The subject's `instance:connection` key: its own instance does not tell it about itself.
    origin: str
    count: int


class Member(Protocol):
    """What presence needs of a connection."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...


class ClusterPresence(ABC):
    """Presence shared by several instances (only brokers that span processes have one)."""

    @abstractmethod
    def bind(
        self,
        instance: str,
        rooms: Mapping[str, Set[Member]],
        local_stats: Callable[[], dict[str, Any]],
        on_event: Callable[[PresenceEvent], None],
    ) -> None:
        """Tell presence who this instance is, its rooms, how to read its local /stats, and
        whom to hand the joins and leaves (anywhere in the cluster) of its rooms."""

    @abstractmethod
    async def join(self, room: str, member: Member, listed: int) -> tuple[int, list[str]] | None:
        """Record `member` in `room` and announce it; the cluster-wide count and up to `listed`
        names of the others. None when the cluster is unreachable (the hub falls back to local)."""

    @abstractmethod
    async def leave(self, room: str, member: Member) -> bool:
        """Remove and announce; False when the cluster is unreachable (the hub tells locally)."""

    @abstractmethod
    def count(self, room: str) -> int | None:
        """The room's cluster-wide size as last heard, or None if unknown."""

    @abstractmethod
    def merge_stats(self, local: dict[str, Any]) -> dict[str, Any]:
        """This instance's /stats combined with the other live instances' figures."""


class Broker(ABC):
    """Six methods, like encode/broadcaster: the hub never knows which backend it talks to.

    The non-abstract members below have single-process defaults; a broker spanning several
    processes overrides them.
    """

    @property
    def available(self) -> bool:
        """Whether the broker can be reached now (`/readyz` reports not ready otherwise)."""
        return True

    def presence(self) -> ClusterPresence | None:
        """Cluster-wide presence, or None when the hub's own (one process) is the whole truth."""
        return None

    async def recent(self, room: str, after: int, limit: int) -> list[Envelope]:
        """Up to `limit` of the room's latest messages with id > `after`, oldest first, from what
        the broker still holds (possibly none: callers fall back to the database)."""
        return []

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def subscribe(self, room: str) -> None:
        """Start receiving the room's messages on this instance."""

    @abstractmethod
    async def unsubscribe(self, room: str) -> None: ...

    @abstractmethod
    async def publish(self, draft: Draft) -> Envelope:
        """Sequence the draft (assign its id and timestamp) and hand it to every instance."""

    @abstractmethod
    async def next_published(self) -> Envelope:
        """The next message of a subscribed room, in room order."""
