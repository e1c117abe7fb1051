"""Inbound bytes: each WebSocket may send INBOUND_BYTES_PER_SECOND on average after a burst of
INBOUND_BYTES_BURST; past that the server stops reading from it until the budget refills, so TCP
slows the sender down. A client blasting large frames within the message rate gets no further,
and nobody else notices; nor does one that keeps sending after the server's close frame, or
while one of its frames still awaits (reading stays paused until both reasons are gone)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import websocket

from tests.adversarial.harness import (
    Watch,
    masked_frame,
    scaled,
    upgraded,
)
from tests.support.clients import connect, publish_acked
from tests.support.server import ServerFactory

RATE = 256 * 1024
BURST = 1024 * 1024
FRAME = "f" * 60_000


def test_a_client_sending_faster_than_its_byte_budget_is_slowed_down(
    make_server: ServerFactory,
) -> None:
    server = make_server({"INBOUND_BYTES_PER_SECOND": str(RATE), "INBOUND_BYTES_BURST": str(BURST)})
    listener = connect(server.ws + "?room=flood", timeout=10)
    attacker = connect(server.ws + "?room=flood", timeout=30)
    frames = scaled(90, 900)
    window = 3.0

    def blast() -> None:
        # 45 frames a second: within the message rate limit (50/s), 2.7 MB/s of bytes.
        try:
            for _ in range(frames):
                attacker.send(FRAME)
                time.sleep(1 / 45)
        except (OSError, websocket.WebSocketException):
            pass  # closed at the end of the test while still blocked in send

    with Watch(server):
        sender = threading.Thread(target=blast, daemon=True)
        sender.start()
        received = len(listener.recv())
        started = time.monotonic()
        listener.settimeout(0.2)
        while time.monotonic() - started < window:
            with contextlib.suppress(websocket.WebSocketTimeoutException):
                received += len(listener.recv())
        elapsed = time.monotonic() - started
    # The server may overshoot by one read (asyncio reads up to 256 KiB at a time), and it read
    # the first frames a moment before the listener saw the first one.
    allowed = BURST + RATE * (elapsed + 0.5) + 256 * 1024
    assert received <= allowed, f"{received} bytes relayed in {elapsed:.1f}s, budget {allowed:.0f}"
    assert received >= BURST / 2  # throttled, not cut off
    attacker.shutdown()  # type: ignore[no-untyped-call]
    sender.join(5)


def _pushed_within(sock: socket.socket, chunk: bytes, seconds: float) -> int:
    """Bytes the kernel took from us in `seconds` of sending as fast as it lets us."""
    sock.settimeout(0.2)
    pushed, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pushed += sock.send(chunk)
        except TimeoutError:
            continue
        except OSError:
            break  # aborted by the server
    return pushed


# Bytes the kernel buffers between a sender and a server that stopped reading (loopback: the
# sender's send buffer and the server's receive buffer, autotuned to a few MB each).
KERNEL_BUFFERS = 16 * 1024 * 1024


def test_after_its_close_frame_a_client_is_read_no_faster_than_its_budget(
    make_server: ServerFactory,
) -> None:
    server = make_server({"INBOUND_BYTES_PER_SECOND": str(RATE), "INBOUND_BYTES_BURST": str(BURST)})
    chunk = masked_frame(b"p" * 60_000) * 16  # ~1 MB a send
    window = 3.0
    with Watch(server):
        sock = upgraded(server, "/ws?format=json")
        sock.sendall(masked_frame(b"\0", opcode=0x2))  # binary: the server closes with 1003
        # ... and is never answered: the socket stays open until CLOSE_TIMEOUT aborts it.
        pushed = _pushed_within(sock, chunk, window)
    allowed = BURST + RATE * (window + 0.5) + KERNEL_BUFFERS
    assert pushed <= allowed, f"{pushed} bytes taken in {window}s after the close, budget {allowed}"


def test_a_client_is_not_read_while_its_frame_awaits_even_once_its_budget_refills(
    make_server: ServerFactory,
) -> None:
    # A fast budget: refilled every few milliseconds, it would let a lot in if it could.
    rate = 8 * 1024 * 1024
    server = make_server({"INBOUND_BYTES_PER_SECOND": str(rate), "INBOUND_BYTES_BURST": str(BURST),
                          "RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000",
                          "STORED_BYTES_PER_HOUR": "0"})  # fmt: skip
    publish_acked(server.ws, "deep", ["d" * 32 * 1024] * 300)  # ~10 MB to replay
    ping = masked_frame(json.dumps({"type": "ping", "pad": "y" * 60_000}).encode())
    window = 5.0
    with Watch(server):
        sock = upgraded(server, "/ws?format=json", rcvbuf=4096)
        sock.sendall(ping * 20)  # past the burst: reading pauses until the budget refills
        # A frame that awaits, and keeps awaiting: its replay waits for a client that never
        # reads. Until it is done, the client's next frames must wait in its own socket.
        subscribe = {"type": "subscribe", "room": "deep", "since": 0}
        sock.sendall(masked_frame(json.dumps(subscribe).encode()))
        pushed = _pushed_within(sock, ping * 16, window)
    # Before, a refilled budget resumed reading while the replay still awaited, and everything
    # after it piled up in the session's backlog at the budget's rate (here 40 MB in 5 s).
    assert pushed <= KERNEL_BUFFERS, f"{pushed} bytes taken while the subscribe awaited"
