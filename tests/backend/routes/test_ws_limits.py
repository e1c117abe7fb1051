"""Limits and bad input: size, rate, binary frames, capacity. Each has a documented answer."""

from __future__ import annotations

import contextlib

import httpx
import pytest
import websocket

from backend.closecodes import CloseCode
from tests.support.clients import JsonClient, connect
from tests.support.server import ServerFactory, ServerProcess


def read_close_code(ws: websocket.WebSocket) -> int:
    """Read until the server's close frame; return its code."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


@pytest.mark.parametrize("query", ["", "?format=json"])
def test_a_frame_over_the_size_limit_closes_with_1009(server: ServerProcess, query: str) -> None:
    ws = connect(server.ws + query)
    ws.send("x" * (64 * 1024 + 1))
    assert read_close_code(ws) == CloseCode.MESSAGE_TOO_BIG


def test_a_frame_at_the_size_limit_is_relayed(server: ServerProcess) -> None:
    a, b = connect(server.ws + "?room=big"), connect(server.ws + "?room=big")
    a.send("y" * (64 * 1024))
    assert b.recv() == "y" * (64 * 1024)
    a.close()
    b.close()


@pytest.mark.parametrize("query", ["", "?format=json"])
def test_a_binary_frame_closes_with_1003(server: ServerProcess, query: str) -> None:
    ws = connect(server.ws + query)
    ws.send_binary(b"\x00\x01")
    assert read_close_code(ws) == CloseCode.UNSUPPORTED_DATA


def test_excess_messages_get_rate_limited_errors_and_are_not_relayed(
    make_server: ServerFactory,
) -> None:
    server = make_server({"RATE_LIMIT_PER_SECOND": "0.01", "RATE_LIMIT_BURST": "3"})
    author, reader = JsonClient(server.ws, "room=rl"), JsonClient(server.ws, "room=rl")
    author.next_of("subscribed")
    reader.next_of("subscribed")
    for n in range(5):
        author.send(type="publish", room="rl", text=f"m{n}", ref=f"r{n}")
    answers = {a["ref"]: a for a in (author.next(skip=("presence",)) for _ in range(5))}
    assert [answers[f"r{n}"]["type"] for n in range(5)] == ["ack", "ack", "ack", "error", "error"]
    assert answers["r3"]["code"] == answers["r4"]["code"] == "rate_limited"
    assert [reader.next_of("message")["text"] for _ in range(3)] == ["m0", "m1", "m2"]
    reader.send(type="ping")
    # Everything the reader gets before the pong: m3 and m4 are not among it.
    before_pong = []
    while (obj := reader.next())["type"] != "pong":
        before_pong.append(obj)
    assert [o for o in before_pong if o["type"] == "message"] == []
    author.close()
    reader.close()


def test_joins_and_leaves_past_their_budget_are_refused_and_members_hear_of_no_more(
    make_server: ServerFactory,
) -> None:
    server = make_server({"ROOM_CHANGES_PER_SECOND": "0.01", "ROOM_CHANGES_BURST": "4"})
    member = JsonClient(server.ws, "room=stage")
    member.next_of("subscribed")
    churner = JsonClient(server.ws, "room=home")  # the handshake's join is the connection's
    churner.next_of("subscribed")
    for n in range(5):  # join, leave, join, leave, then a join past the budget
        kind = "unsubscribe" if n % 2 else "subscribe"
        churner.send(type=kind, room="stage", ref=f"c{n}")
    answers = [churner.next(skip=("presence",)) for _ in range(5)]
    assert [a["type"] for a in answers] == [
        "subscribed", "unsubscribed", "subscribed", "unsubscribed", "error",
    ]  # fmt: skip
    assert (answers[4]["code"], answers[4]["ref"]) == ("rate_limited", "c4")
    # Re-subscribing to a room it is in is no join: it costs nothing, and is answered.
    churner.send(type="subscribe", room="home", ref="again")
    assert churner.next(skip=("presence",))["type"] == "subscribed"
    churner.send(type="subscribe", room="elsewhere", ref="new")
    assert churner.next(skip=("presence",))["code"] == "rate_limited"
    member.send(type="ping")
    heard = []
    while (obj := member.next())["type"] != "pong":
        heard.append(obj)
    events = [(o["type"], o["event"]) for o in heard]
    assert events == [("presence", "join"), ("presence", "leave")] * 2
    member.close()
    churner.close()


def test_many_connections_of_one_identity_share_a_budget_of_joins_and_leaves(
    make_server: ServerFactory,
) -> None:
    # Each connection within its own budget, 800 of one address cost a room's members p99
    # ~750 ms: the identity (here the guests' address) has a budget of its own.
    server = make_server(
        {"ROOM_CHANGES_PER_IDENTITY_PER_SECOND": "0.01", "ROOM_CHANGES_PER_IDENTITY_BURST": "6"}
    )
    member = JsonClient(server.ws, "room=stage")
    member.next_of("subscribed")
    churners = [JsonClient(server.ws) for _ in range(4)]
    outcomes = []
    for n, churner in enumerate(churners):
        for kind in ("subscribe", "unsubscribe"):
            churner.send(type=kind, room="stage", ref=f"{n}-{kind}")
            outcomes.append(churner.next(skip=("presence",))["type"])
    # Six changes between them, then none, though each connection is within its own budget.
    assert outcomes == ["subscribed", "unsubscribed"] * 3 + ["error", "error"], outcomes
    member.send(type="ping")
    heard = []
    while (obj := member.next())["type"] != "pong":
        heard.append((obj["type"], obj["event"]))
    assert heard == [("presence", "join"), ("presence", "leave")] * 3
    for client in (member, *churners):
        client.close()


def test_many_connections_of_one_identity_share_a_budget_of_typing_notices(
    make_server: ServerFactory,
) -> None:
    # Each connection may say so every 2 s; the identity 10 times at once, 5 a second.
    server = make_server()
    member = JsonClient(server.ws, "room=stage")
    member.next_of("subscribed")
    typists = [JsonClient(server.ws, "room=stage") for _ in range(14)]
    for typist in typists:
        typist.next_of("subscribed")
        typist.send(type="typing", room="stage")
    notices = 0
    member.ws.settimeout(1.0)  # notices go through the broker's pump: read until quiet
    with contextlib.suppress(websocket.WebSocketTimeoutException):
        while True:
            notices += member.next()["type"] == "typing"
    assert 10 <= notices <= 11, notices
    for client in (member, *typists):
        client.close()


def test_persistent_rate_abuse_is_closed_with_1008(make_server: ServerFactory) -> None:
    server = make_server(
        {"RATE_LIMIT_PER_SECOND": "0.01", "RATE_LIMIT_BURST": "1", "RATE_LIMIT_STRIKES": "5"}
    )
    ws = connect(server.ws)
    for _ in range(6):
        ws.send("spam")
    assert read_close_code(ws) == CloseCode.POLICY_VIOLATION
    metrics = httpx.get(server.http + "/metrics").text
    assert 'desafio_server_closes_total{code="1008"} 1.0' in metrics
    assert 'desafio_errors_total{code="rate_limited"} 4.0' in metrics


def test_connections_over_the_maximum_are_refused_with_503(make_server: ServerFactory) -> None:
    server = make_server({"MAX_CONNECTIONS": "2"})
    first, second = connect(server.ws), connect(server.ws)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server.ws)
    assert refused.value.status_code == 503
    first.close()
    second.close()
