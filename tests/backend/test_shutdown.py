"""SIGTERM: every client is closed with 1001 after what was queued for it has gone out."""

from __future__ import annotations

import signal
import socket

import websocket

from backend.closecodes import CloseCode
from tests.support.clients import JsonClient, connect
from tests.support.server import ServerFactory

SIZE = 8 * 1024
BACKLOG = 100  # 800 KiB: more than the socket buffers take, less than the outbound queue limit


def test_sigterm_flushes_queued_messages_then_closes_every_client_with_1001(
    make_server: ServerFactory,
) -> None:
    server = make_server({"RATE_LIMIT_BURST": "1000"})
    idle = connect(server.ws + "?room=other")
    # It does not read until the server is gone: its messages pile up in the server's queue.
    stalled = connect(
        server.ws + "?room=flush",
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
        skip_utf8_validation=True,
    )
    author = JsonClient(server.ws, "room=flush")
    author.next_of("subscribed")
    for n in range(BACKLOG):
        author.send(type="publish", room="flush", text=f"{n:05d}" + "z" * (SIZE - 5))
    assert [author.next_of("ack")["id"] for _ in range(BACKLOG)][-1] == BACKLOG

    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert server.terminate() == -signal.SIGTERM

    texts = []
    stalled.settimeout(10)
    while True:
        opcode, data = stalled.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        texts.append(data[:5].decode())
    assert texts == [f"{n:05d}" for n in range(BACKLOG)]
    assert int.from_bytes(data[:2], "big") == CloseCode.GOING_AWAY
    for ws in (idle, author.ws):
        opcode, data = ws.recv_data(control_frame=True)
        while opcode != websocket.ABNF.OPCODE_CLOSE:
            opcode, data = ws.recv_data(control_frame=True)
        assert int.from_bytes(data[:2], "big") == CloseCode.GOING_AWAY
