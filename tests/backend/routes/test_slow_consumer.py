"""A reader that stops reading is closed with 4000; everyone else keeps receiving everything."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx
import pytest
import websocket

from backend.closecodes import CloseCode
from tests.support.clients import connect
from tests.support.server import ServerFactory

READERS = 50
MESSAGES = 3000
SIZE = 8 * 1024
# The publisher stays at most this many messages ahead of the slowest healthy reader, so the test
# measures the server's isolation of one stalled client, not the test process's own speed.
WINDOW = 64


class Reader(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        # websocket-client's pure-Python UTF-8 check costs ~1 ms per 8 KiB frame: 50 readers
        # would measure it, not the server.
        self.ws = connect(url, timeout=30, skip_utf8_validation=True)
        self.received = 0
        self.in_order = True

    def run(self) -> None:
        while self.received < MESSAGES:
            text = self.ws.recv()
            assert isinstance(text, str)
            if int(text[:8]) != self.received:
                self.in_order = False
            self.received += 1


def drain(ws: websocket.WebSocket) -> None:
    with contextlib.suppress(websocket.WebSocketException, OSError):
        while ws.recv():
            pass


# Measures the server's RSS growth and holds the healthy readers to a deadline.
@pytest.mark.serial
def test_slow_reader_is_disconnected_and_others_keep_receiving(
    make_server: ServerFactory,
) -> None:
    # The publisher sends 24 MB: lift the per-connection budgets (messages, inbound bytes,
    # stored bytes) that would otherwise pace it, and the test would measure them instead.
    server = make_server(
        {
            "RATE_LIMIT_PER_SECOND": "100000",
            "RATE_LIMIT_BURST": "100000",
            "INBOUND_BYTES_PER_SECOND": str(1 << 30),
            "INBOUND_BYTES_BURST": str(1 << 30),
            "STORED_BYTES_PER_HOUR": "0",
            "CLOSE_TIMEOUT": "120",
        }
    )
    url = server.ws + "?room=firehose"
    # A tiny receive buffer, and it never reads: the server sees it stall almost at once.
    slow = connect(url, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    readers = [Reader(url) for _ in range(READERS)]
    publisher = connect(url, timeout=60)
    # Its reads answer the server's keepalive pings; a client that never reads is rightly dropped.
    threading.Thread(target=drain, args=(publisher,), daemon=True).start()
    rss_before = server.rss_bytes()
    for reader in readers:
        reader.start()

    padding = "x" * (SIZE - 8)
    deadline = time.monotonic() + 120
    for seq in range(MESSAGES):
        while seq - min(r.received for r in readers) > WINDOW:
            assert time.monotonic() < deadline, "healthy readers stopped receiving"
            time.sleep(0.001)
        publisher.send(f"{seq:08d}{padding}")
    for reader in readers:
        reader.join(timeout=max(1.0, deadline - time.monotonic()))
    rss_growth = server.rss_bytes() - rss_before

    assert [r.received for r in readers] == [MESSAGES] * READERS
    assert all(r.in_order for r in readers)
    assert rss_growth < 30 * 1024 * 1024, f"server RSS grew by {rss_growth / 2**20:.1f} MiB"

    metrics = httpx.get(server.http + "/metrics").text
    assert "desafio_slow_consumer_disconnects_total 1.0" in metrics
    # The stalled client, once it reads again, finds what was buffered and then the close code.
    slow.settimeout(30)
    while True:
        opcode, data = slow.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
    assert int.from_bytes(data[:2], "big") == CloseCode.SLOW_CONSUMER
    assert httpx.get(server.http + "/stats").json()["rooms"]["firehose"]["connections"] == 51
