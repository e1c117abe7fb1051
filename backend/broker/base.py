"""The broker interface: how instances share the messages of a room, and in which order."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as a client sent it, before the broker gives it its place in the room."""

    room: str
    sender: str
    text: str
    data: dict[str, Any] | None
    # `instance:connection` of the sender, so that no instance echoes it back to its author.
    origin: str


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


class Broker(ABC):
    """Six methods, like encode/broadcaster: the hub never knows which backend it talks to."""

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
