"""`python -m backend` serves /ws on its own connection layer (backend/native), and says so."""

from __future__ import annotations

import re
import signal
import time

import httpx
import pytest
import websocket

from backend.closecodes import CloseCode
from tests.support.auth import SECURED
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerFactory, ServerProcess


def sessions(server: ServerProcess) -> dict[str, float]:
    """desafio_ws_sessions_total by path, from /metrics."""
    text = httpx.get(server.http + "/metrics").text
    found = re.findall(r'^desafio_ws_sessions_total\{path="(\w+)"\} (\S+)$', text, re.M)
    return {path: float(value) for path, value in found}


def close_code(ws: websocket.WebSocket) -> int:
    """Read until the server's close frame; its code."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


def test_every_ws_session_of_the_product_is_served_by_the_native_layer(
    server: ServerProcess,
) -> None:
    before = sessions(server).get("native", 0.0)
    text = connect(server.ws)
    json_client = JsonClient(server.ws, "room=native")
    json_client.next_of("subscribed")
    after = sessions(server)
    # The ASGI fallback (any other server) never served one here: no "asgi" sample at all.
    assert "asgi" not in after
    assert after["native"] == before + 2
    text.close()
    json_client.close()


def test_a_websocket_to_another_path_is_refused_by_the_app_as_under_any_asgi_server(
    server: ServerProcess,
) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server.ws.replace("/ws", "/elsewhere"))
    assert refused.value.status_code == 403


def test_a_message_sent_in_fragments_is_relayed_whole(server: ServerProcess) -> None:
    author = connect(server.ws + "?room=fragments")
    reader = connect(server.ws + "?room=fragments")
    author.send_frame(websocket.ABNF.create_frame("frag", websocket.ABNF.OPCODE_TEXT, fin=0))
    author.ping("in between")  # control frames may come between fragments
    author.send_frame(websocket.ABNF.create_frame("mented", websocket.ABNF.OPCODE_CONT, fin=1))
    assert reader.recv() == "fragmented"
    assert_silent(author)


def test_a_text_frame_that_is_not_utf8_is_closed_with_1007(server: ServerProcess) -> None:
    ws = connect(server.ws + "?room=utf8")
    frame = websocket.ABNF.create_frame(b"\xff\xfe not text", websocket.ABNF.OPCODE_TEXT)
    ws.send_frame(frame)
    assert close_code(ws) == CloseCode.INVALID_DATA


def test_frames_behind_one_that_waits_are_handled_after_it_in_order(
    server: ServerProcess,
) -> None:
    client = JsonClient(server.ws, "name=orderly")
    # The subscribe reads the log (it awaits); the ping behind it must not overtake it.
    client.send(type="subscribe", room="order", history=50)
    client.send(type="ping")
    client.send(type="unsubscribe", room="order")
    client.send(type="ping")
    kinds = [client.next()["type"] for _ in range(4)]
    assert kinds == ["subscribed", "pong", "unsubscribed", "pong"]


# Pings 0.4 s apart, 0.4 s to answer: a client starved of CPU would answer late.
@pytest.mark.serial
def test_a_client_that_never_answers_keepalive_pings_is_closed_with_1011(
    make_server: ServerFactory,
) -> None:
    server = make_server({"WS_PING_INTERVAL": "0.4", "WS_PING_TIMEOUT": "0.4"})
    silent = connect(server.ws + "?room=keepalive")
    answering = connect(server.ws + "?room=keepalive")
    deadline = time.monotonic() + 2.5
    pings = 0
    answering.settimeout(0.2)
    while time.monotonic() < deadline:  # recv answers each ping with a pong, as browsers do
        try:
            opcode, _ = answering.recv_data(control_frame=True)
            pings += opcode == websocket.ABNF.OPCODE_PING
        except websocket.WebSocketTimeoutException:
            pass
    assert pings >= 2
    assert close_code(silent) == CloseCode.INTERNAL_ERROR  # it read nothing, so answered nothing
    answering.settimeout(5)
    answering.send("still here")  # the one that answered is open and relays
    third = connect(server.ws + "?room=keepalive")
    answering.send("still here")
    assert third.recv() == "still here"


# A time bound: closed within 5 s.
@pytest.mark.serial
def test_a_connection_still_logging_in_is_closed_with_1001_at_shutdown(
    make_server: ServerFactory,
) -> None:
    server = make_server({**SECURED, "AUTH_TIMEOUT_SECONDS": "30"})
    waiting = connect(server.ws + "?format=json")  # accepted; its first frame must be a token
    assert server.proc is not None
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert close_code(waiting) == CloseCode.GOING_AWAY
    assert time.monotonic() - started < 5  # not the 30 s login window
    server.proc.wait(10)
