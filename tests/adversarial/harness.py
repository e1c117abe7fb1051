"""The adversarial suite's harness: a healthy publisher/subscriber pair that measures delivery and
latency, and the server's memory, while one attack runs beside it.

Bounds (docs/security.md#budgets): every healthy message delivered, p99 latency under
P99_BOUND_SECONDS (generous: a loaded 2-core machine runs the attack, the server and the
measuring client at once), and the server's RSS no more than RSS_GROWTH_BOUND above what it was
before the attack. `ADVERSARIAL_SCALE=long` runs every attack ten times bigger (`make faults`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import Any

import websocket

from tests.support.clients import connect
from tests.support.server import ServerProcess

LONG = os.environ.get("ADVERSARIAL_SCALE", "small") == "long"
P99_BOUND_SECONDS = 0.25
RSS_GROWTH_BOUND = 30 * 1024 * 1024
HEALTHY_RATE = 20  # messages per second from the healthy publisher
# Raw sockets the attacks open, closed after each test.
RAW: list[socket.socket] = []


def scaled(small: int, long: int | None = None) -> int:
    """The size of an attack: `small` in `make test`, `long` (10x by default) in `make faults`."""
    return (long if long is not None else small * 10) if LONG else small


class Watch:
    """`with Watch(server): <attack>`: a healthy pair runs throughout; on a clean exit, asserts
    100 % delivery, p99 under the bound and memory growth under the bound."""

    def __init__(self, server: ServerProcess, query: str = "", settle: float = 0.5) -> None:
        self.server = server
        self.room = "healthy-" + uuid.uuid4().hex[:8]
        self.query = f"format=json&room={self.room}" + (f"&{query}" if query else "")
        self.settle = settle
        self.sent: dict[int, float] = {}
        self.errors: list[dict[str, Any]] = []  # what the healthy publisher was told
        self.latencies: dict[int, float] = {}
        self.baseline = 0
        self.peak = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _client(self, name: str) -> websocket.WebSocket:
        ws = connect(f"{self.server.ws}?{self.query}&name={name}", timeout=10)
        while True:  # up to `subscribed`: the pair is in the room before anything is published
            frame = str(ws.recv())
            if any(json.loads(line)["type"] == "subscribed" for line in frame.split("\n")):
                return ws

    def __enter__(self) -> Watch:
        self.subscriber = self._client("healthy-sub")
        self.publisher = self._client("healthy-pub")
        for target in (self._publish, self._drain_acks, self._receive, self._sample):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)
        time.sleep(self.settle)  # warm: the first messages and writes are behind us
        self.baseline = self.peak = self.server.rss_bytes()
        return self

    def _publish(self) -> None:
        seq = 0
        while not self.stopping.is_set():
            with self.lock:
                self.sent[seq] = time.monotonic()
            frame = {"type": "publish", "room": self.room, "text": str(seq), "ref": f"h{seq}"}
            self.publisher.send(json.dumps(frame))
            seq += 1
            time.sleep(1 / HEALTHY_RATE)

    def _drain_acks(self) -> None:
        # The publisher reads its acks, as a healthy client does, and keeps any error it gets.
        while True:
            try:
                frame = str(self.publisher.recv())
            except Exception:  # noqa: BLE001 - closed at the end of the watch
                return
            if not frame:
                return
            for line in frame.split("\n"):
                obj = json.loads(line)
                if obj.get("type") == "error":
                    self.errors.append(obj)

    def _receive(self) -> None:
        while True:
            try:
                frame = str(self.subscriber.recv())
            except Exception:  # noqa: BLE001 - closed at the end of the watch
                return
            if not frame:  # the connection is closing
                return
            now = time.monotonic()
            for line in frame.split("\n"):
                obj = json.loads(line)
                if obj.get("type") == "message" and obj.get("room") == self.room:
                    seq = int(obj["text"])
                    with self.lock:
                        self.latencies[seq] = now - self.sent[seq]

    def _sample(self) -> None:
        while not self.stopping.is_set():
            self.peak = max(self.peak, self.server.rss_bytes())
            time.sleep(0.05)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self.threads[0].join(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(self.latencies) < len(self.sent):
            time.sleep(0.05)
        self.peak = max(self.peak, self.server.rss_bytes())
        for ws in (self.publisher, self.subscriber):
            ws.close(timeout=0.5)
        if kind is None:
            self.assert_unharmed()

    def report(self) -> dict[str, Any]:
        ordered = sorted(self.latencies.values())
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else None
        return {
            "sent": len(self.sent),
            "delivered": len(self.latencies),
            "p99_ms": None if p99 is None else round(p99 * 1000, 1),
            "rss_growth_mib": round((self.peak - self.baseline) / 2**20, 1),
            "errors": self.errors[:3],
        }

    def assert_unharmed(self) -> None:
        report = self.report()
        assert report["sent"] > 0, report
        missing = sorted(set(self.sent) - set(self.latencies))
        assert not missing, f"healthy messages lost: {missing[:10]} ({report})"
        assert report["p99_ms"] is not None
        assert report["p99_ms"] < P99_BOUND_SECONDS * 1000, f"healthy p99 too high: {report}"
        assert self.peak - self.baseline < RSS_GROWTH_BOUND, f"server memory grew: {report}"


def raw_socket(
    server: ServerProcess, source: str = "127.0.0.1", timeout: float = 10
) -> socket.socket:
    """A TCP connection to the server from `source` (any 127.x.y.z is this machine too); closed
    after the test (tests/adversarial/conftest.py)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout, (source, 0))
    RAW.append(sock)
    return sock


def close_raw() -> None:
    while RAW:
        RAW.pop().close()


def upgrade_request(path: str = "/ws", extra: str = "") -> bytes:
    """A WebSocket handshake request as a browser sends it."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"{extra}\r\n"
    ).encode()


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection; raises if it does not
    close within `timeout` seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except TimeoutError:
            raise AssertionError(f"still open after {timeout}s; received {data[:200]!r}") from None
        if not chunk:
            return data
        data += chunk


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 when there is none)."""
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else 0


def json_body(answer: bytes) -> Any:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])
