"""Ping floods: every ping makes the server write a pong, so pings are outbound bytes and a
budget of their own (CONTROL_FRAMES_PER_SECOND, CONTROL_FRAMES_BURST): a client that floods
pings without reading is closed with 1008, in text and JSON mode, before and after a login.
Fragments spend the same budget: a message sent as endless tiny pieces is closed the same way."""

from __future__ import annotations

import select
import signal
import socket

import pytest
import websocket

from backend.closecodes import CloseCode
from tests.adversarial.harness import (
    Watch,
    masked_frame,
    read_until_closed,
    scaled,
    upgraded,
)
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


def closed_for_abuse(sock: socket.socket) -> bool:
    """Whether the server's close frame for abuse is already waiting in `sock` (peeked at)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    head = sock.recv(65536, socket.MSG_PEEK)
    return b"too many control frames" in head or b"slow consumer" in head


def flood(ws: websocket.WebSocket, megabytes: int) -> None:
    """Send pings, 1 MB at a time, reading nothing (only peeking for a close frame among the
    first pongs), until the server closes or `megabytes` are sent."""
    sock = ws.sock
    assert sock is not None
    chunk = PING * (1_000_000 // len(PING))
    for _ in range(megabytes):
        sock.sendall(chunk)
        if closed_for_abuse(sock):
            return


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
    codes = []
    with Watch(server, healthy_query):
        for _ in range(scaled(2, 20)):
            # With auth required and no token, this connection waits for an `auth` first
            # frame: it is not in the hub yet, but its pings are answered all the same.
            attacker = connect(server.ws + mode)
            flood(attacker, 32)
            codes.append(close_code_after_pongs(attacker))
            attacker.shutdown()  # type: ignore[no-untyped-call]  # gone, as an attacker goes
    assert set(codes) <= {CloseCode.POLICY_VIOLATION, CloseCode.SLOW_CONSUMER}, codes


def test_pings_within_the_budget_are_answered(make_server: ServerFactory) -> None:
    server = make_server()
    ws = connect(server.ws)
    for n in range(20):
        ws.ping(f"p{n}")
        opcode, data = ws.recv_data(control_frame=True)
        assert (opcode, data) == (0xA, f"p{n}".encode())


def test_a_message_sent_as_endless_empty_fragments_is_closed_and_nobody_else_notices(
    make_server: ServerFactory,
) -> None:
    # The attacker never answers the close: the server drops it CLOSE_TIMEOUT after its close
    # frame (5 s by default, 1 here so that the attackers follow one another quickly).
    server = make_server({"CLOSE_TIMEOUT": "1"})
    # An empty continuation frame is 6 bytes: within the byte budget, ~40,000 of them a second
    # (each one parsed, and once held in a list); the message never ends, so the message rate
    # limit never sees it.
    empties = masked_frame(b"", opcode=0x0, fin=False) * 50_000
    closes = []
    with Watch(server):
        for _ in range(scaled(4, 40)):
            sock = upgraded(server, "/ws?format=json")
            sock.sendall(masked_frame(b"{", fin=False))
            try:
                for _ in range(20):
                    sock.sendall(empties)
                    if closed_for_abuse(sock):
                        break  # the flood is over: what follows would only wait for the abort
            except OSError:
                pass  # closed mid-flood: what it read says why
            closes.append(read_until_closed(sock, 15))
    for answer in closes:
        assert b"too many control frames or fragments" in answer, answer[-200:]


def test_a_message_in_a_few_fragments_is_still_relayed(make_server: ServerFactory) -> None:
    server = make_server()
    listener = connect(server.ws + "?room=pieces")
    sock = upgraded(server, "/ws?room=pieces")
    sock.sendall(
        masked_frame(b"hel", fin=False)
        + masked_frame(b"lo ", opcode=0x0, fin=False)
        + masked_frame(b"world", opcode=0x0)
    )
    assert str(listener.recv()).endswith("hello world")


def test_a_server_stopping_does_not_wait_for_a_client_it_closed_for_abuse(
    make_server: ServerFactory,
) -> None:
    # Closed for abuse, the attacker is no longer read, so its answer to the close frame would
    # never be seen: SIGTERM must not wait CLOSE_TIMEOUT (a minute here) for it.
    server = make_server({"CLOSE_TIMEOUT": "60"})
    attacker = connect(server.ws)
    flood(attacker, 32)
    assert close_code_after_pongs(attacker) in {CloseCode.POLICY_VIOLATION, CloseCode.SLOW_CONSUMER}
    # The attacker stays connected, silent, reading nothing.
    assert server.terminate(timeout=30) == -signal.SIGTERM  # uvicorn re-raises it, once done
