"""Clients for the fault suites: publishers that resend what was not acknowledged, subscribers
that recover with `since`, both recording everything they saw for the checker.

Each peer runs a reader thread over one websocket-client connection; when its server dies the
connection ends and the orchestrating test reconnects it (to the same or another instance).
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import websocket

from tests.support.clients import connect


@dataclass
class Seen:
    """One message as a subscriber received it, with the connection it arrived on."""

    connection: int
    id: int
    text: str
    sender_id: str


class Peer(ABC):
    """A JSON connection with a reader thread; `on_object` sees every server object."""

    def __init__(self, url: str) -> None:
        self.ws: websocket.WebSocket | None = None
        self.url = url
        self.welcome: dict[str, Any] = {}
        self.lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self.connections = 0

    def open(self, url: str | None = None) -> None:
        self.url = url or self.url
        ws = connect(self.url, timeout=10)
        self.connections += 1
        self.ws = ws
        first = json.loads(str(ws.recv()).split("\n")[0])
        assert first["type"] == "welcome", first
        self.welcome = first
        self._reader = threading.Thread(target=self._read, args=(ws, self.connections), daemon=True)
        self._reader.start()

    def _read(self, ws: websocket.WebSocket, connection: int) -> None:
        ws.settimeout(None)
        while True:
            try:
                frame = ws.recv()
            except Exception:  # noqa: BLE001 - the server went away: the test reconnects
                return
            if not frame:
                return
            for line in str(frame).split("\n"):
                with self.lock:
                    self.on_object(json.loads(line), connection)

    @abstractmethod
    def on_object(self, obj: dict[str, Any], connection: int) -> None:
        """Record one server object (called under `lock`, from the reader thread)."""

    def send(self, obj: dict[str, Any]) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            ws.send(json.dumps(obj))
            return True
        except Exception:  # noqa: BLE001 - the server is down; the frame counts as unsent
            return False

    def drop(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close(timeout=0.2)
            self.ws.shutdown()  # type: ignore[no-untyped-call]
        if self._reader is not None:
            self._reader.join(5)
        self.ws = None


@dataclass
class PublisherLog:
    texts: dict[str, str] = field(default_factory=dict)  # ref -> text (the same on resend)
    acks: dict[str, list[int]] = field(default_factory=dict)  # ref -> every id acked for it
    errors: list[dict[str, Any]] = field(default_factory=list)


class Publisher(Peer):
    """Publishes `name:n` with ref `name-n` to one room as a guest with a fixed client session
    (so its identity, and its refs, survive reconnects); resends what was never acked."""

    def __init__(self, base: str, name: str, room: str) -> None:
        self.session = secrets.token_urlsafe(24)
        super().__init__(f"{base}?format=json&name={name}&session={self.session}")
        self.name = name
        self.room = room
        self.log = PublisherLog()
        self.sent = 0

    def on_object(self, obj: dict[str, Any], connection: int) -> None:
        if obj["type"] == "ack":
            self.log.acks.setdefault(obj["ref"], []).append(obj["id"])
        elif obj["type"] == "error":
            self.log.errors.append(obj)

    def publish_next(self) -> None:
        ref = f"{self.name}-{self.sent}"
        self.log.texts[ref] = f"{self.name}:{self.sent}"
        self.sent += 1
        self.send({"type": "publish", "room": self.room, "text": self.log.texts[ref], "ref": ref})

    def resend_unacked(self) -> int:
        with self.lock:
            missing = [ref for ref in self.log.texts if ref not in self.log.acks]
        for ref in missing:
            self.send(
                {"type": "publish", "room": self.room, "text": self.log.texts[ref], "ref": ref}
            )
        return len(missing)

    def unacked(self) -> list[str]:
        with self.lock:
            return [ref for ref in self.log.texts if ref not in self.log.acks]


class Subscriber(Peer):
    """Follows one room; after a reconnect it subscribes with `since` its last id and epoch."""

    def __init__(self, base: str, room: str) -> None:
        super().__init__(f"{base}?format=json")
        self.room = room
        self.seen: list[Seen] = []
        self.subscribed: list[dict[str, Any]] = []
        self.epoch: str | None = None

    def on_object(self, obj: dict[str, Any], connection: int) -> None:
        if obj["type"] == "message" and obj["room"] == self.room:
            self.seen.append(Seen(connection, obj["id"], obj["text"], obj["sender_id"]))
        elif obj["type"] == "subscribed":
            self.subscribed.append({**obj, "connection": connection})
            self.epoch = obj.get("epoch", self.epoch)

    def last_id(self) -> int | None:
        with self.lock:
            return self.seen[-1].id if self.seen else None

    def follow(self) -> None:
        """Subscribe (again): with `since` once it has seen something."""
        frame: dict[str, Any] = {"type": "subscribe", "room": self.room}
        since = self.last_id()
        if since is not None:
            frame["since"] = since
            if self.epoch is not None:
                frame["epoch"] = self.epoch
        self.send(frame)

    def wait_subscribed(self, count: int, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.subscribed) >= count:
                    return self.subscribed[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no subscribed #{count} for {self.room} within {timeout}s")


def publish_for(publishers: list[Publisher], seconds: float, rng: random.Random) -> None:
    """Publish from every publisher, interleaved at random, for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rng.choice(publishers).publish_next()
        time.sleep(rng.uniform(0.0005, 0.004))


def start_traffic(
    publishers: list[Publisher], subscribers: list[Subscriber], seconds: float, rng: random.Random
) -> threading.Thread:
    """Connect everyone (subscribers first, each confirmed), then publish in the background."""
    for sub in subscribers:
        sub.open()
        sub.follow()
        sub.wait_subscribed(1)
    for pub in publishers:
        pub.open()
    publishing = threading.Thread(target=publish_for, args=(publishers, seconds, rng))
    publishing.start()
    return publishing
