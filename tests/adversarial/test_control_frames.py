"""Ping floods: every ping makes the server write a pong, so pings are outbound bytes and a
budget of their own (CONTROL_FRAMES_PER_SECOND, CONTROL_FRAMES_BURST): a client that floods
pings without reading is closed with 1008, in text and JSON mode, before and after a login."""

from __future__ import annotations

import pytest
import websocket

from backend.closecodes import CloseCode
from tests.adversarial.harness import Watch, scaled
from tests.support.auth import SECRET, sign
from tests.support.clients import connect
from tests.support.server import ServerFactory

# A masked ping with the largest control payload (125 bytes); a zero mask leaves it as is.
PING = b"\x89\xfd\x00\x00\x00\x00" + b"p" * 125
SECURED = {"AUTH_REQUIRED": "true", "JWT_SECRET": SECRET}


def close_code_after_pongs(ws: websocket.WebSocket, timeout: float = 15) -> int:
    """Read the pongs the server wrote, then its close frame: its code."""
    ws.settimeout(timeout)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


@pytest.mark.parametrize(
    ("mode", "secured"),
    [("", False), ("?format=json", False), ("?format=json", True)],
    ids=["text", "json", "json-login-pending"],
)
def test_a_ping_flood_without_reading_is_closed_and_nobody_else_notices(
    make_server: ServerFactory, mode: str, secured: bool
) -> None:
    server = make_server(SECURED if secured else {})
    healthy_query = f"token={sign('healthy')}" if secured else ""
    with Watch(server, healthy_query):
        # With auth required and no token, this connection waits for an `auth` first frame:
        # it is not in the hub yet, but its pings are answered all the same.
        attacker = connect(server.ws + mode)
        assert attacker.sock is not None
        attacker.sock.sendall(PING * scaled(250_000))
        code = close_code_after_pongs(attacker)
    assert code in (CloseCode.POLICY_VIOLATION, CloseCode.SLOW_CONSUMER)


def test_pings_within_the_budget_are_answered(make_server: ServerFactory) -> None:
    server = make_server()
    ws = connect(server.ws)
    for n in range(20):
        ws.ping(f"p{n}")
        opcode, data = ws.recv_data(control_frame=True)
        assert (opcode, data) == (0xA, f"p{n}".encode())
