"""Typing notices: relayed to the room's other members with who types, coalesced, never stored."""

from __future__ import annotations

import httpx

from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ServerProcess


def test_a_typing_notice_reaches_the_others_in_the_room_but_not_the_typist(
    server: ServerProcess,
) -> None:
    typist = JsonClient(server.ws, "name=Ana&room=typing")
    typist.next_of("subscribed")
    other = JsonClient(server.ws, "name=Bob&room=typing")
    other.next_of("subscribed")
    typist.next_of("presence")
    typist.send(type="typing", room="typing")
    notice = other.next_of("typing")
    assert notice == {
        "type": "typing",
        "room": "typing",
        "name": "Ana",
        "id": typist.welcome["you"]["id"],
        "guest": True,
    }
    assert_silent(typist.ws)


def test_notices_are_coalesced_and_never_stored(server: ServerProcess) -> None:
    typist = JsonClient(server.ws, "name=Ana&room=keys")
    typist.next_of("subscribed")
    plain = connect(f"{server.ws}?room=keys")
    other = JsonClient(server.ws, "name=Bob&room=keys")
    other.next_of("subscribed")
    for _ in range(5):  # one per keystroke
        typist.send(type="typing", room="keys")
    other.next_of("typing")
    assert_silent(other.ws, wait=0.5)
    assert_silent(plain)
    response = httpx.get(f"{server.http}/rooms/keys/messages", timeout=5)
    assert response.json()["messages"] == []


def test_typing_in_a_room_one_is_not_in_is_refused(server: ServerProcess) -> None:
    client = JsonClient(server.ws, "name=Ana")
    client.send(type="typing", room="elsewhere")
    assert client.next()["code"] == "not_subscribed"


def test_a_typist_in_many_rooms_is_relayed_once_per_interval_not_once_per_room(
    server: ServerProcess,
) -> None:
    rooms = ["ta", "tb", "tc"]
    typist = JsonClient(server.ws, "name=Ana")
    other = JsonClient(server.ws, "name=Bob")
    for client in (typist, other):
        for room in rooms:
            client.send(type="subscribe", room=room)
            client.next_of("subscribed")
    for room in rooms:  # each notice goes to every member: one per room would triple the cost
        typist.send(type="typing", room=room)
    assert other.next_of("typing")["room"] == "ta"
    assert_silent(other.ws, wait=0.5)
