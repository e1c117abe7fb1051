"""The broker interface: how instances share the messages of a room, and in which order."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from backend.identity import Sender
from backend.messages import Envelope, Resync


class BrokerUnavailable(Exception):
    """The broker cannot be reached now; the message was not sent (the client may retry)."""


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    """Someone joined or left a room on some instance; `count` is the room's cluster-wide size."""

    room: str
    event: Literal["join", "leave"]
    name: str
    # The subject's Sender id (u:... or g:...): two "Bob"s are two people.
    sender_id: str
    # The subject's `instance:connection` key: its own instance does not tell it about itself.
    origin: str
    count: int


class Member(Protocol):
    """What presence needs of a connection."""

    @property
    def key(self) -> str: ...

    @property
    def sender(self) -> Sender: ...

    @property
    def observer(self) -> bool:
        """Receives the room's messages, yet is in nobody's presence (never recorded)."""
        ...


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
    async def join(
        self, room: str, member: Member, listed: int
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """Record `member` in `room` and announce it; the cluster-wide count and up to `listed`
        of the others (`Sender.public()`). None when the cluster is unreachable (the hub falls
        back to local)."""

    async def roster(self, room: str, listed: int) -> tuple[int, list[dict[str, Any]]] | None:
        """The cluster-wide count and up to `listed` members, recording and announcing nobody
        (what an observer is told). None when unknown: the hub falls back to local."""
        return None

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

    The broker carries committed messages between instances; it never numbers them (the store's
    log does) and is never on the path that decides whether a publish happened. The non-abstract
    members below have single-process defaults; a broker spanning several processes overrides
    them.
    """

    @property
    def available(self) -> bool:
        """Whether the broker can be reached now (`/readyz` reports not ready otherwise)."""
        return True

    def presence(self) -> ClusterPresence | None:
        """Cluster-wide presence, or None when the hub's own (one process) is the whole truth."""
        return None

    def backlog(self) -> int:
        """Messages handed over but not yet taken by `next_published` (drained at shutdown)."""
        return 0

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
    def publish(self, envelope: Envelope) -> None:
        """Hand a committed message to every instance, this one included; never blocks. What
        cannot reach another instance now reaches it through a `Resync` and the store."""

    @abstractmethod
    async def next_published(self) -> Envelope | Resync:
        """The next committed message of a subscribed room (per room in id order, possibly with
        duplicates and gaps the hub's sequencer resolves), or a Resync."""
