"""Names and rooms at every way in, against a real server: whole-string room rules, guest names
without invisible or reordering characters, and registered names kept from guests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.support.auth import SECRET, register
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory, ServerProcess

PRIVATE = '{"staff": {"users": ["ana"]}}'


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess({"JWT_SECRET": SECRET, "PRIVATE_ROOMS": PRIVATE}) as proc:
        assert register(proc, "ana", "ana password").status_code == 201
        assert register(proc, "maria", "maria password").status_code == 201
        yield proc


def refusal(url: str) -> tuple[int, dict[str, str]]:
    """Status and `error` object of a refused handshake."""
    answer = httpx.get(
        url.replace("ws://", "http://"),
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    return answer.status_code, answer.json()["error"]


@pytest.mark.parametrize("room", ["staff\n", "staff\r\n", "staff ", "sta\u200bff"])
def test_a_room_with_anything_after_its_name_is_refused_at_the_handshake(
    server: ServerProcess, room: str
) -> None:
    for fmt in ("text", "json"):
        status, error = refusal(f"{server.ws}?format={fmt}&room={quote(room)}")
        assert (status, error["code"]) == (400, "invalid_room")


def test_staff_with_a_newline_is_not_a_second_staff_anywhere(server: ServerProcess) -> None:
    client = JsonClient(server.ws)
    client.send(type="subscribe", room="staff\n")
    assert client.next_of("error")["code"] == "invalid_room"
    client.send(type="publish", room="staff\n", text="hi", ref="r1")
    assert client.next_of("error")["code"] == "invalid_room"
    answer = httpx.get(server.http + "/rooms/staff%0A/messages")
    assert answer.status_code == 422
    assert "staff\n" not in httpx.get(server.http + "/stats").json()["rooms"]


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil",
        "a\u200bna",
        "ana\u2028",
        "ana\x85",
        "x\x1b[2J",
        "ana\n",
        "\ue000x",
        # Spaces other than U+0020 (a hair, no-break, ideographic one) and a Khmer coeng after a
        # Latin letter: each renders "maria" within a pixel or two, so none can be a name.
        "ma\u200aria",
        "ma\u00a0ria",
        "ma\u3000ria",
        "ma\u17d2ria",
    ],
)
def test_guest_names_with_invisible_or_reordering_characters_are_refused(
    server: ServerProcess, name: str
) -> None:
    status, error = refusal(f"{server.ws}?format=json&name={quote(name)}")
    assert (status, error["code"]) == (400, "invalid_name")


@pytest.mark.parametrize(
    "name",
    # The spaced ones: white space is the one kind left a name may hold, and it counts for
    # nothing when names are compared.
    ["ana", "ANA", "\u0430na", "\uff41na", "rnaria", "Maria", "ma ria", "M a r i a", "a na"],
)
def test_a_guest_cannot_take_a_registered_name_or_one_that_looks_like_it(
    server: ServerProcess, name: str
) -> None:
    status, error = refusal(f"{server.ws}?format=json&name={quote(name)}")
    assert (status, error["code"]) == (400, "name_reserved")
    status, error = refusal(f"{server.ws}?format=text&room=lobby&name={quote(name)}")
    assert (status, error["code"]) == (400, "name_reserved")


def test_guest_names_are_stored_and_shown_in_nfc(server: ServerProcess) -> None:
    watcher = JsonClient(server.ws, "room=names")
    watcher.next_of("subscribed")
    guest = JsonClient(server.ws, "room=names&name=" + quote("Zoe\u0308"))
    assert guest.welcome["name"] == "Zo\u00eb"
    joined = watcher.next_of("presence")
    assert (joined["name"], joined["guest"]) == ("Zo\u00eb", True)
    guest.send(type="publish", room="names", text="hello", ref="n1")
    message = watcher.next_of("message")
    assert (message["sender"], message["guest"]) == ("Zo\u00eb", True)
    history = httpx.get(server.http + "/rooms/names/messages").json()["messages"]
    assert json.dumps(history[-1]["sender"]) == json.dumps("Zo\u00eb")


def test_an_unrelated_name_and_an_unregistered_one_are_fine(server: ServerProcess) -> None:
    assert JsonClient(server.ws, "name=" + quote("Анна")).welcome["name"] == "Анна"
    assert JsonClient(server.ws, "name=bob").welcome["name"] == "bob"
    assert JsonClient(server.ws, "name=" + quote("Ana Lima")).welcome["name"] == "Ana Lima"


def test_settings_refuse_rooms_with_a_trailing_newline(make_server: ServerFactory) -> None:
    with pytest.raises(RuntimeError):
        make_server({"DEFAULT_ROOM": "lobby\n"})
    with pytest.raises(RuntimeError):
        make_server({"PRIVATE_ROOMS": '{"staff\\n": {"users": ["ana"]}}'})
