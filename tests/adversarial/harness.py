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
import struct
import subprocess
import sys
import threading
import time
import uuid
from types import TracebackType
from typing import Any

from tests.support.server import ROOT, ServerProcess

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
    """`with Watch(server): <attack>`: a healthy pair runs throughout, in a process of its own
    (tests/adversarial/healthy.py); on a clean exit, asserts 100 % delivery, p99 under the
    bound and the server's memory growth under the bound."""

    def __init__(self, server: ServerProcess, query: str = "", settle: float = 0.5) -> None:
        self.server = server
        room = "healthy-" + uuid.uuid4().hex[:8]
        self.url = f"{server.ws}?format=json&room={room}" + (f"&{query}" if query else "")
        self.settle = settle
        self.result: dict[str, Any] = {}
        self.baseline = 0
        self.peak = 0
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.pair: subprocess.Popen[str] | None = None

    def __enter__(self) -> Watch:
        self.pair = subprocess.Popen(
            [sys.executable, "-m", "tests.adversarial.healthy", self.url, str(HEALTHY_RATE)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.pair.stdout is not None
        ready = self.pair.stdout.readline()
        assert ready == "ready\n", f"the healthy pair did not start: {ready!r}"
        time.sleep(self.settle)  # warm: the first messages and writes are behind us
        self.baseline = self.peak = self.server.rss_bytes()
        self.sampler.start()
        return self

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
        self.sampler.join(5)
        self.peak = max(self.peak, self.server.rss_bytes())
        assert self.pair is not None
        try:
            out, _ = self.pair.communicate("stop\n", timeout=20)
        except subprocess.TimeoutExpired:
            self.pair.kill()
            out, _ = self.pair.communicate()
        self.result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        if kind is None:
            self.assert_unharmed()

    def report(self) -> dict[str, Any]:
        latencies = sorted(self.result.get("latencies", {}).values())
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
        return {
            "sent": self.result.get("sent", 0),
            "delivered": len(latencies),
            "p99_ms": None if p99 is None else round(p99 * 1000, 1),
            "rss_growth_mib": round((self.peak - self.baseline) / 2**20, 1),
            "errors": self.result.get("errors", [])[:3],
            # Other work on this machine inflates latency: say how busy it was.
            "load_average": os.getloadavg()[0],
        }

    def assert_unharmed(self) -> None:
        report = self.report()
        assert report["sent"] > 0, report
        missing = report["sent"] - report["delivered"]
        assert not missing, f"{missing} healthy messages lost ({report})"
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


def upgraded(server: ServerProcess, path: str, rcvbuf: int | None = None) -> socket.socket:
    """A raw socket past its WebSocket handshake (a client may send frames only after the 101:
    bytes behind the request in the same read are not kept)."""
    sock = raw_socket(server)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.sendall(upgrade_request(path))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert status_of(head) == 101, head
    return sock


def masked_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A client frame (masked, as RFC 6455 requires), with a zero mask: the payload as is."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, size)
    return head + b"\0\0\0\0" + payload


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
