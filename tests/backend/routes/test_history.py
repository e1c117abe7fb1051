"""`GET /rooms/{room}/messages`: stored history, oldest first, and clear 422s for bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

ROOM = "hist"


@pytest.fixture(scope="module")
def published(server: ServerProcess) -> list[int]:
    author = JsonClient(server.ws, f"room={ROOM}&name=ana")
    author.next_of("subscribed")
    for n in range(30):
        author.send(type="publish", room=ROOM, text=f"m{n}", data={"n": n}, ref=f"h{n}")
    ids = [author.next_of("ack")["id"] for _ in range(30)]
    author.close()
    return ids


def history(server: ServerProcess, room: str = ROOM, **params: object) -> httpx.Response:
    query = {key: str(value) for key, value in params.items()}
    return httpx.get(f"{server.http}/rooms/{room}/messages", params=query)


def test_history_returns_the_newest_oldest_first_in_the_websocket_shape(
    server: ServerProcess, published: list[int]
) -> None:
    body = history(server, limit=5).json()
    assert body["room"] == ROOM
    assert [m["id"] for m in body["messages"]] == published[-5:]
    first = body["messages"][0]
    assert set(first) == {
        "type",
        "id",
        "room",
        "sender",
        "sender_id",
        "guest",
        "text",
        "data",
        "ts",
    }
    assert (first["type"], first["sender"], first["text"], first["data"]) == (
        "message", "ana", "m25", {"n": 25},
    )  # fmt: skip


def test_after_and_before_page_through_history(server: ServerProcess, published: list[int]) -> None:
    after = history(server, after=published[9], limit=3).json()["messages"]
    assert [m["id"] for m in after] == published[10:13]
    before = history(server, before=published[9], limit=3).json()["messages"]
    assert [m["id"] for m in before] == published[6:9]
    assert history(server, after=published[-1]).json()["messages"] == []
    assert history(server, after=10**12).json()["messages"] == []


def test_an_unknown_room_has_an_empty_history(server: ServerProcess) -> None:
    assert history(server, "nobody-here").json() == {"room": "nobody-here", "messages": []}


@pytest.mark.parametrize(
    "params",
    [{"limit": -1}, {"limit": 0}, {"limit": 501}, {"limit": 10**30}, {"limit": "ten"},
     {"before": "x"}, {"after": -5}, {"after": "1; DROP TABLE messages"}],
)  # fmt: skip
def test_bad_parameters_get_422_with_a_clear_message(
    server: ServerProcess, params: dict[str, object]
) -> None:
    response = history(server, ROOM, **params)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"][0] == "query" and detail["msg"]


@pytest.mark.parametrize("room", ["has space", "x" * 65, "'; DROP TABLE messages;--", "ümlaut"])
def test_invalid_room_names_get_422(server: ServerProcess, room: str) -> None:
    response = history(server, room)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "room"]


def test_sql_looking_text_is_stored_and_returned_verbatim(server: ServerProcess) -> None:
    nasty = "'); DELETE FROM messages; -- ☃ \\x00 %s $1"
    author = JsonClient(server.ws, "room=nasty")
    author.send(type="publish", room="nasty", text=nasty, ref="n")
    author.next_of("ack")
    assert history(server, "nasty").json()["messages"][0]["text"] == nasty
