"""/ws with AUTH_REQUIRED against a real server: who gets in, as whom, where, and for how long."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
import websocket

from backend.closecodes import CloseCode
from tests.support.auth import (
    OTHER_SECRET,
    SECRET,
    SECURED,
    bearer,
    close_code,
    refused_status,
    sign,
    unsigned,
)
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def secured() -> Iterator[ServerProcess]:
    with ServerProcess(SECURED) as proc:
        yield proc


def forged_signature() -> str:
    header, payload, _ = sign("ana", role="admin").split(".")
    _, _, signature = sign("bob").split(".")
    return f"{header}.{payload}.{signature}"


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "forged signature": forged_signature,
    "alg none": lambda: unsigned("ana"),
    "expired": lambda: sign("ana", expires_in=-5),
    "another secret": lambda: sign("ana", secret=OTHER_SECRET),
}


def listener(server: ServerProcess, room: str) -> JsonClient:
    """An authenticated JSON client in `room`, to prove what is (not) relayed."""
    client = JsonClient(server.ws, f"room={room}&token={sign('watcher-' + room)}")
    client.next_of("subscribed")
    return client


def test_an_anonymous_text_client_is_refused_with_403(secured: ServerProcess) -> None:
    assert refused_status(secured.ws) == 403
    assert refused_status(secured.ws + "?room=lobby&name=ana") == 403


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_in_the_query_or_header_is_refused_with_403(
    secured: ServerProcess, kind: str
) -> None:
    token = BAD_TOKENS[kind]()
    assert refused_status(f"{secured.ws}?format=json&token={token}") == 403
    assert refused_status(secured.ws, header=bearer(token)) == 403


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_in_the_first_frame_closes_1008_and_nothing_is_relayed(
    secured: ServerProcess, kind: str
) -> None:
    watcher = listener(secured, "lobby")
    ws = connect(secured.ws + "?format=json&room=lobby")
    ws.send(json.dumps({"type": "auth", "token": BAD_TOKENS[kind]()}))
    ws.send(json.dumps({"type": "publish", "room": "lobby", "text": "sneaked in"}))
    assert close_code(ws) == CloseCode.POLICY_VIOLATION
    assert_silent(watcher.ws)  # no presence, no message


def test_frames_before_auth_are_not_relayed_and_close_1008(secured: ServerProcess) -> None:
    watcher = listener(secured, "lobby")
    ws = connect(secured.ws + "?format=json")
    ws.send(json.dumps({"type": "publish", "room": "lobby", "text": "unauthenticated"}))
    assert close_code(ws) == CloseCode.POLICY_VIOLATION
    assert_silent(watcher.ws)


def test_a_client_that_never_authenticates_is_closed_1008(secured: ServerProcess) -> None:
    ws = connect(secured.ws + "?format=json", timeout=10)  # AUTH_TIMEOUT_SECONDS is 1
    assert close_code(ws) == CloseCode.POLICY_VIOLATION


def test_a_first_frame_auth_makes_the_connection_its_tokens_user(secured: ServerProcess) -> None:
    watcher = listener(secured, "lobby")
    ws = connect(secured.ws + "?format=json&room=lobby&name=mallory")
    ws.send(json.dumps({"type": "auth", "token": sign("bob")}))
    welcome = json.loads(str(ws.recv()).split("\n")[0])
    assert (welcome["type"], welcome["name"], welcome["rooms"]) == ("welcome", "bob", [])
    assert welcome["you"]["name"] == "bob" and welcome["you"]["guest"] is False
    assert watcher.next() == {
        "type": "presence", "room": "lobby", "event": "join", "name": "bob", "count": 2,
        "id": welcome["you"]["id"], "guest": False,
    }  # fmt: skip


def test_the_sender_is_the_tokens_user_whatever_the_client_claims(secured: ServerProcess) -> None:
    watcher = listener(secured, "spoof")
    author = JsonClient(secured.ws, f"name=ana&room=spoof&token={sign('bob')}")
    assert author.welcome["name"] == "bob"
    author.next_of("subscribed")
    author.send(type="publish", room="spoof", text="hi", sender="ana", ref="r1")
    message = watcher.next_of("message")
    assert (message["sender"], message["text"]) == ("bob", "hi")
    text = connect(f"{secured.ws}?room=spoof&name=ana", header=bearer(sign("carol")))
    text.send("plain")
    assert watcher.next_of("message")["sender"] == "carol"


def test_a_room_outside_the_tokens_allow_list_is_forbidden_and_hears_nothing(
    secured: ServerProcess,
) -> None:
    token = sign("bot", rooms=["alerts"])
    assert refused_status(f"{secured.ws}?room=lobby&token={token}") == 403
    assert refused_status(f"{secured.ws}?token={token}") == 403  # text mode's default room
    watcher = listener(secured, "lobby")
    bot = JsonClient(secured.ws, f"token={token}")
    bot.send(type="subscribe", room="lobby")
    assert bot.next() == {
        "type": "error", "code": "forbidden", "detail": "not allowed in room 'lobby'",
    }  # fmt: skip
    bot.send(type="publish", room="lobby", text="leak", ref="p1")
    refused = bot.next()
    assert (refused["code"], refused["ref"]) == ("forbidden", "p1")
    assert_silent(watcher.ws)
    assert bot.subscribe("alerts")["room"] == "alerts"


def test_a_private_room_admits_its_users_and_roles_and_leaks_nothing(
    secured: ServerProcess,
) -> None:
    ana = JsonClient(secured.ws, f"token={sign('ana')}")
    assert ana.subscribe("staff")["count"] == 1
    bob = JsonClient(secured.ws, f"token={sign('bob')}")
    bob.send(type="subscribe", room="staff", history=10)
    assert bob.next()["code"] == "forbidden"
    assert refused_status(f"{secured.ws}?room=staff&token={sign('bob')}") == 403
    assert_silent(ana.ws)  # bob's attempts caused no presence
    root = JsonClient(secured.ws, f"token={sign('root', role='admin')}")
    assert root.subscribe("staff")["members"] == ["ana"]
    root.send(type="publish", room="staff", text="staff only", ref="s1")
    assert ana.next_of("message")["text"] == "staff only"
    assert_silent(bob.ws)


def wait_closed(ws: websocket.WebSocket, deadline: float) -> int:
    ws.settimeout(deadline)
    return close_code(ws)


def test_a_connection_is_closed_4001_when_its_token_expires(secured: ServerProcess) -> None:
    client = JsonClient(secured.ws, f"token={sign('ana', expires_in=2)}")
    assert wait_closed(client.ws, 10) == CloseCode.TOKEN_EXPIRED


def test_an_auth_frame_refreshes_the_token_before_it_expires(secured: ServerProcess) -> None:
    expires = time.time() + 2
    client = JsonClient(secured.ws, f"token={sign('ana', expires_in=2)}")
    client.send(type="auth", token=sign("bob"))
    assert client.next()["code"] == "invalid_token"  # another user's token is no refresh
    client.send(type="auth", token=sign("ana", expires_in=600))
    answer = client.next()
    assert answer["type"] == "authenticated" and answer["name"] == "ana"
    assert 590 <= answer["expires_in"] <= 600
    while time.time() < expires + 1:  # past the first token's expiry
        time.sleep(0.2)
    client.send(type="ping")
    assert client.next() == {"type": "pong"}


def test_without_auth_required_tokens_name_the_user_and_guests_remain(
    make_server: ServerFactory,
) -> None:
    server = make_server({"JWT_SECRET": SECRET})
    assert JsonClient(server.ws, "name=ana").welcome["name"] == "ana"
    assert JsonClient(server.ws).welcome["name"].startswith("guest-")
    named = JsonClient(server.ws, f"name=mallory&token={sign('bob')}")
    assert named.welcome["name"] == "bob"
    assert refused_status(f"{server.ws}?token={sign('bob', secret=OTHER_SECRET)}") == 403


def test_tokens_never_appear_in_the_server_log(
    make_server: ServerFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    server = make_server({**SECURED, "LOG_LEVEL": "INFO"})
    good, bad = sign("ana"), sign("ana", secret=OTHER_SECRET)
    JsonClient(server.ws, f"token={good}").close()
    refused_status(f"{server.ws}?format=json&token={bad}")
    server.stop()  # flush and end its output
    err = capfd.readouterr().err
    assert "token=[redacted]" in err  # the access log line is there, redacted
    for secret in (good, bad, good.split(".")[2], bad.split(".")[2]):
        assert secret not in err
