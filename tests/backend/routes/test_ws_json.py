"""JSON mode: subscriptions to several rooms, acks and ids, interop with text mode, bad frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from backend.protocol import server_objects
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerFactory, ServerProcess


def test_json_client_is_welcomed_and_can_subscribe_to_several_rooms(server: ServerProcess) -> None:
    client = JsonClient(server.ws, "name=multi")
    welcome = client.welcome
    assert (welcome["type"], welcome["name"], welcome["rooms"]) == ("welcome", "multi", [])
    you = welcome["you"]
    assert (you["name"], you["guest"], you["id"][:2]) == ("multi", True, "g:")
    assert welcome["limits"] == {
        "message_bytes": 64 * 1024,
        "rate_per_second": 50.0,
        "rate_burst": 100,
        "rooms": 32,
    }
    assert client.subscribe("one")["room"] == "one"
    assert client.subscribe("two")["room"] == "two"
    one, two = connect(server.ws + "?room=one"), connect(server.ws + "?room=two")
    one.send("from one")
    two.send("from two")
    got = {client.next_of("message")["text"], client.next_of("message")["text"]}
    assert got == {"from one", "from two"}
    for ws in (one, two):
        ws.close()
    client.close()


def test_publisher_gets_an_ack_with_the_id_and_never_its_own_message(server: ServerProcess) -> None:
    author, reader = JsonClient(server.ws, "room=acks"), JsonClient(server.ws, "room=acks")
    author.next_of("subscribed")
    reader.next_of("subscribed")
    ids = []
    for n in range(5):
        author.send(type="publish", room="acks", text=f"m{n}", ref=f"r{n}")
        ack = author.next_of("ack")
        assert ack["ref"] == f"r{n}"
        ids.append(ack["id"])
    assert ids == sorted(ids) and len(set(ids)) == 5
    received = [reader.next_of("message") for _ in range(5)]
    assert [m["id"] for m in received] == ids
    assert [m["text"] for m in received] == [f"m{n}" for n in range(5)]
    for message in received:
        server_objects.validate_python(message)
        assert message["ts"].endswith("Z")
    author.send(type="ping")
    assert author.next() == {"type": "pong"}  # nothing of its own was queued ahead of the pong
    author.close()
    reader.close()


def test_text_and_json_clients_interoperate_in_a_room(server: ServerProcess) -> None:
    text = connect(server.ws + "?room=mixed")
    js = JsonClient(server.ws, "room=mixed&name=json-side")
    js.next_of("subscribed")
    text.send("plain hello")
    message = js.next_of("message")
    assert message["text"] == "plain hello" and message["room"] == "mixed"
    js.send(type="publish", room="mixed", text="json hello", data={"k": [1, 2]})
    assert text.recv() == "json hello"
    assert js.next_of("ack")["id"] == message["id"] + 1
    text.close()
    js.close()


def test_presence_announces_joins_and_leaves_with_counts(server: ServerProcess) -> None:
    watcher = JsonClient(server.ws, "room=pres&name=watcher")
    assert watcher.next_of("subscribed")["count"] == 1
    visitor = connect(server.ws + "?room=pres&name=visitor")
    join = watcher.next_of("presence")
    assert (join["event"], join["name"], join["count"]) == ("join", "visitor", 2)
    late = JsonClient(server.ws, "room=pres&name=late")
    subscribed = late.next_of("subscribed")
    assert subscribed["count"] == 3
    assert sorted(subscribed["members"]) == ["visitor", "watcher"]
    visitor.close()
    leave = watcher.next_of("presence")
    while leave["name"] != "visitor":
        leave = watcher.next_of("presence")
    assert (leave["event"], leave["count"]) == ("leave", 2)
    late.close()
    watcher.close()


def test_unsubscribe_stops_delivery(server: ServerProcess) -> None:
    client = JsonClient(server.ws, "room=leaving")
    client.next_of("subscribed")
    client.send(type="unsubscribe", room="leaving")
    assert client.next_of("unsubscribed")["room"] == "leaving"
    other = connect(server.ws + "?room=leaving")
    other.send("after you left")
    assert_silent(client.ws)
    client.send(type="unsubscribe", room="leaving")
    assert client.next_of("error")["code"] == "not_subscribed"
    other.close()
    client.close()


MALFORMED = [
    ("not json at all", "invalid_json"),
    ("[1, 2, 3]", "invalid_frame"),
    ('"a string"', "invalid_frame"),
    ("{}", "invalid_frame"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": 7}', "unknown_type"),
    ('{"type": "publish", "room": "x"}', "invalid_field"),
    ('{"type": "publish", "room": "x", "text": 42}', "invalid_field"),
    ('{"type": "publish", "room": "x", "text": "t", "data": [1]}', "invalid_field"),
    ('{"type": "publish", "room": "x", "text": "t", "ref": ""}', "invalid_field"),
    ('{"type": "subscribe"}', "invalid_field"),
    ('{"type": "subscribe", "room": "has space"}', "invalid_room"),
    ('{"type": "subscribe", "room": ""}', "invalid_room"),
    ('{"type": "subscribe", "room": "' + "x" * 65 + '"}', "invalid_room"),
    ('{"type": "subscribe", "room": "\'; DROP TABLE messages;--"}', "invalid_room"),
]


@pytest.mark.parametrize(("raw", "code"), MALFORMED)
def test_a_malformed_frame_gets_an_error_and_the_connection_stays_open(
    server: ServerProcess, raw: str, code: str
) -> None:
    client = JsonClient(server.ws)
    client.ws.send(raw)
    error = client.next()
    assert error["type"] == "error" and error["code"] == code, error
    assert error["detail"]
    client.send(type="ping")
    assert client.next() == {"type": "pong"}
    client.close()


def test_an_error_carries_the_ref_of_the_frame_it_answers(server: ServerProcess) -> None:
    client = JsonClient(server.ws)
    client.ws.send(json.dumps({"type": "publish", "room": "bad room", "text": "x", "ref": "r-9"}))
    assert client.next() == {
        "type": "error",
        "code": "invalid_room",
        "detail": "room must match ^[A-Za-z0-9_.-]{1,64}$",
        "ref": "r-9",
    }
    client.close()


def test_a_client_claimed_sender_is_ignored(server: ServerProcess) -> None:
    author = JsonClient(server.ws, "room=spoof&name=real")
    reader = JsonClient(server.ws, "room=spoof")
    author.send(type="publish", room="spoof", text="hi", sender="admin")
    assert reader.next_of("message")["sender"] == "real"
    author.close()
    reader.close()


def test_rooms_per_connection_are_limited(make_server: ServerFactory) -> None:
    server = make_server({"MAX_ROOMS_PER_CONNECTION": "2"})
    client = JsonClient(server.ws)
    client.subscribe("r1")
    client.subscribe("r2")
    client.send(type="subscribe", room="r3")
    assert client.next_of("error")["code"] == "too_many_rooms"
    client.close()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"publish","room":"p1","text":"x","ref":"\\ud800"}',
        '{"type":"subscribe","room":"p1","ref":"\\udfff"}',
        '{"type":"ping","ref":"\\ud800"}',
        '{"type":"publish","room":"bad room!","text":"x","ref":"\\ud800"}',
        '{"type":"\\ud800","ref":"x"}',
    ],
)
def test_a_lone_surrogate_in_a_ref_or_type_gets_an_error_and_the_connection_stays(
    server: ServerProcess, frame: str
) -> None:
    # JSON may escape a lone surrogate, which no answer can be encoded with: quoting it back in
    # the error closed the connection with 1011 instead.
    client = JsonClient(server.ws)
    client.ws.send(frame)
    error = client.next_of("error")
    assert error["code"] in {"invalid_data", "invalid_field", "invalid_room", "unknown_type"}
    assert error.get("ref") in (None, "x")
    client.send(type="ping")
    assert client.next_of("pong")["type"] == "pong"


def test_the_roster_of_a_room_being_opened_lists_whoever_joined_meanwhile(
    server: ServerProcess,
) -> None:
    # The first member's join awaits the room's opening (its position in the store); a second
    # member joining then is announced to it at once. Its `subscribed` listed the room as it was
    # before: count 2 with an empty roster, and a member list built from it lost the second.
    async def trial(room: str) -> tuple[list[str], dict[str, Any]]:
        first = await websockets.connect(server.ws + "?format=json")
        await first.recv()
        await first.send(json.dumps({"type": "subscribe", "room": room}))
        second = await websockets.connect(f"{server.ws}?format=json&name=second&room={room}")
        heard: list[str] = []
        while True:
            for line in str(await asyncio.wait_for(first.recv(), 5)).split("\n"):
                obj = json.loads(line)
                if obj["type"] == "subscribed":
                    await first.close()
                    await second.close()
                    return heard, obj
                if obj["type"] == "presence" and obj["event"] == "join":
                    heard.append(obj["name"])

    for n in range(20):
        heard, subscribed = asyncio.run(trial(f"opening-{n}"))
        listed = [entry["name"] for entry in subscribed["roster"]]
        assert set(heard) <= set(listed), (heard, subscribed)
        assert subscribed["count"] == len(listed) + 1, subscribed
