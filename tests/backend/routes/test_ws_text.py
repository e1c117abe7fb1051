"""The original contract: `/ws` in text mode relays every frame to everyone else in the room."""

from __future__ import annotations

import httpx
import pytest
import websocket

from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerProcess


def test_root_answers_the_original_welcome_exactly(server: ServerProcess) -> None:
    response = httpx.get(server.http + "/")
    assert response.status_code == 200
    assert response.json() == {"message": "Bem-vindo ao servidor WebSocket"}


def test_text_reaches_every_other_client_as_the_identical_frame_and_never_the_sender(
    server: ServerProcess,
) -> None:
    a, b, c = (connect(server.ws) for _ in range(3))
    a.send("olá, mundo ✓ <b>")
    assert b.recv() == "olá, mundo ✓ <b>"
    assert c.recv() == "olá, mundo ✓ <b>"
    assert_silent(a)
    for ws in (a, b, c):
        ws.close()


def test_clients_without_room_share_the_default_room_lobby(server: ServerProcess) -> None:
    plain = connect(server.ws)
    explicit = connect(server.ws + "?room=lobby")
    plain.send("hi")
    assert explicit.recv() == "hi"
    plain.close()
    explicit.close()


def test_rooms_are_isolated(server: ServerProcess) -> None:
    red1, red2 = connect(server.ws + "?room=red"), connect(server.ws + "?room=red")
    blue = connect(server.ws + "?room=blue")
    red1.send("only red")
    assert red2.recv() == "only red"
    assert_silent(blue)
    for ws in (red1, red2, blue):
        ws.close()


def test_a_client_that_disconnects_is_removed_and_no_one_else_notices(
    server: ServerProcess,
) -> None:
    a, b = connect(server.ws + "?room=leavers"), connect(server.ws + "?room=leavers")
    gone = connect(server.ws + "?room=leavers")
    assert gone.sock is not None
    gone.sock.close()  # vanish without a close handshake
    a.send("still here?")
    assert b.recv() == "still here?"
    b.send("yes")
    assert a.recv() == "yes"
    stats = httpx.get(server.http + "/stats").json()
    assert stats["rooms"]["leavers"]["connections"] == 2
    a.close()
    b.close()


def test_name_parameter_sets_the_sender_seen_by_json_subscribers(server: ServerProcess) -> None:
    watcher = JsonClient(server.ws, "room=named")
    watcher.next_of("subscribed")
    talker = connect(server.ws + "?room=named&name=Ana")
    talker.send("oi")
    message = watcher.next_of("message")
    assert (message["sender"], message["text"], message["room"]) == ("Ana", "oi", "named")
    talker.close()
    watcher.close()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("room=no%20spaces", "invalid_room"),
        ("format=xml", "invalid_format"),
        ("name=", "invalid_name"),
    ],
)
def test_bad_handshake_parameters_are_refused_with_400_and_a_reason(
    server: ServerProcess, query: str, code: str
) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(f"{server.ws}?{query}")
    assert refused.value.status_code == 400
    assert code.encode() in (refused.value.resp_body or b"")


def test_a_refused_handshake_is_logged_once_with_its_reason() -> None:
    server = ServerProcess({"LOG_LEVEL": "INFO"}, log_to_file=True).start()
    try:
        with pytest.raises(websocket.WebSocketBadStatusException):
            connect(server.ws + "?room=bad%20room&token=s3cr3t")
    finally:
        server.terminate()
        log = server.log_text()
        server.stop()
    refusals = [line for line in log.splitlines() if "refused a /ws handshake" in line]
    assert len(refusals) == 1 and "400" in refusals[0] and "invalid_room" in refusals[0]
    assert "s3cr3t" not in log
