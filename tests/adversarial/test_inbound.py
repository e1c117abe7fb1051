"""Inbound bytes: each WebSocket may send INBOUND_BYTES_PER_SECOND on average after a burst of
INBOUND_BYTES_BURST; past that the server stops reading from it until the budget refills, so TCP
slows the sender down. A client blasting large frames within the message rate gets no further,
and nobody else notices."""

from __future__ import annotations

import contextlib
import threading
import time

import websocket

from tests.adversarial.harness import Watch, scaled
from tests.support.clients import connect
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
