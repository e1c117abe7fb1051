"""History on join and recovery after a gap, against the documented persistence API.

The backend's GET /rooms/{room}/messages is being built alongside this client, so these tests
answer it from the browser (Playwright routing) with the documented shape; the socket, the
backend and the page are real.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Route, expect

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]


def stored(room: str, id_: int, sender: str, text: str) -> dict[str, object]:
    return {
        "type": "message",
        "id": id_,
        "room": room,
        "sender": sender,
        "text": text,
        "data": None,
        "ts": "2026-11-26T09:00:00.000Z",
    }


class StoredMessages:
    """Answers the history endpoint for one room, and remembers what the page asked."""

    def __init__(self, room: str, messages: list[dict[str, object]]) -> None:
        self.room = room
        self.messages = messages
        self.queries: list[dict[str, list[str]]] = []

    def __call__(self, route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        self.queries.append(query)
        after = int(query["after"][0]) if "after" in query else 0
        found = [m for m in self.messages if isinstance(m["id"], int) and m["id"] > after]
        body = json.dumps({"room": self.room, "messages": found})
        route.fulfill(status=200, content_type="application/json", body=body)


def test_joining_a_room_shows_its_recent_history_before_new_messages(
    server: ServerProcess, open_chat: Opener
) -> None:
    history = StoredMessages(
        "archive", [stored("archive", 1, "Bruno", "older one"), stored("archive", 2, "Ana", "mine")]
    )
    ana = open_chat(server.http, "Ana", "archive", wait=False)
    ana.page.route("**/rooms/archive/messages*", history)
    ana.page.reload()
    ana.wait_until_in_room()

    expect(ana.texts).to_have_text(["older one", "mine"])
    expect(ana.messages.nth(1)).to_have_class(re.compile(r"\bmine\b"))
    assert history.queries[0]["limit"] == ["50"]


def test_after_a_reconnect_the_page_asks_only_for_what_it_missed(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server()
    history = StoredMessages("gap", [])
    ana = open_chat(backend.http, "Ana", "gap", wait=False)
    ana.page.route("**/rooms/gap/messages*", history)
    ana.page.reload()
    ana.wait_until_in_room()
    friend = JsonClient(backend.ws, "name=Bruno&room=gap")
    friend.send(type="publish", room="gap", text="live one")
    expect(ana.texts).to_have_text(["live one"])
    live_id = int(ana.messages.first.get_attribute("data-id") or "0")
    friend.close()

    backend.stop()
    expect(ana.status).to_have_attribute("data-state", "reconnecting")
    history.messages = [stored("gap", live_id + 1, "Bruno", "said while you were away")]
    make_server(port=backend.port)
    expect(ana.texts).to_have_text(["live one", "said while you were away"], timeout=30_000)
    assert history.queries[-1]["after"] == [str(live_id)]
