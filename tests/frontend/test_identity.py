"""Who wrote what is decided by ids, never names: two tabs called Ana, guests, registered users."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import Browser, WebSocketRoute, expect

from tests.frontend.pages import ChatPage, Opener
from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]


def test_two_tabs_with_the_same_name_each_see_only_their_own_messages_as_theirs(
    server: ServerProcess, open_chat: Opener
) -> None:
    first = open_chat(server.http, "Ana", "twins")
    second = open_chat(server.http, "Ana", "twins")
    first.say("from the first Ana")
    expect(second.texts).to_have_text(["from the first Ana"])
    second.say("from the second Ana")
    expect(first.texts).to_have_text(["from the first Ana", "from the second Ana"])

    for own, other, page in ((0, 1, first), (1, 0, second)):
        expect(page.messages.nth(own)).to_have_class(re.compile(r"\bmine\b"))
        expect(page.messages.nth(own).locator(".sender")).to_have_text("You")
        expect(page.messages.nth(other)).not_to_have_class(re.compile(r"\bmine\b"))
        expect(page.messages.nth(other).locator(".sender")).to_have_text("Ana")
        expect(page.messages.nth(other).locator(".guest-tag")).to_have_text("guest")
        expect(page.messages.nth(other)).not_to_contain_text("Edit")
        # Two people called Ana are two entries online, one of them "you".
        expect(page.members).to_have_text(["Ana", "Ana"])
        expect(page.page.locator("#members .you")).to_have_count(1)
        expect(page.page.locator("#onlineCount")).to_have_text("2")

    second.page.close()
    expect(first.members).to_have_text(["Ana"])
    expect(first.page.locator("#members .you")).to_have_count(1)


def test_a_registered_sender_carries_no_guest_marker(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"JWT_SECRET": SECRET})
    ana = open_chat(backend.http, "ana", "registered")
    real = JsonClient(backend.ws, f"room=registered&token={sign('ana')}")
    real.next_of("subscribed")
    real.send(type="publish", room="registered", text="the real ana", ref="r1")
    impostor = JsonClient(backend.ws, "name=Ana2&room=registered")
    impostor.send(type="publish", room="registered", text="a guest", ref="r1")
    expect(ana.texts).to_have_text(["the real ana", "a guest"], timeout=10_000)
    expect(ana.messages.nth(0).locator(".guest-tag")).to_have_count(0)
    expect(ana.messages.nth(0)).not_to_have_class(re.compile(r"\bmine\b"))
    expect(ana.messages.nth(1).locator(".guest-tag")).to_have_text("guest")
    real.close()
    impostor.close()


def test_a_guest_stays_the_same_guest_after_a_reload(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "reloads")
    secret = ana.page.evaluate("localStorage.getItem('desafio.session')")
    assert re.fullmatch(r"[A-Za-z0-9_-]{24,128}", secret)
    me = ana.page.evaluate("window.desafio.chat.you.id")
    ana.say("before the reload")
    expect(ana.messages.first).to_have_attribute("data-state", "sent")
    address = ana.page.evaluate("window.desafio.chat.socket.ws.url")
    assert f"session={secret}" in address

    ana.page.reload()
    ana.wait_until_in_room()
    assert ana.page.evaluate("window.desafio.chat.you.id") == me
    # Its own message, replayed from history, is still its own.
    expect(ana.messages.first.locator(".sender")).to_have_text("You")
    expect(ana.messages.first).to_have_class(re.compile(r"\bmine\b"))


def test_another_connection_of_ours_joining_and_leaving_leaves_us_listed_once_and_counted(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "own-tabs")
    secret = ana.page.evaluate("localStorage.getItem('desafio.session')")
    online = ana.page.locator("#onlineCount")
    other_tab = JsonClient(server.ws, f"name=Ana&room=own-tabs&session={secret}")
    expect(online).to_have_text("2")
    expect(ana.members).to_have_text(["Ana"])
    other_tab.close()
    expect(online).to_have_text("1")
    expect(ana.members).to_have_text(["Ana"])
    expect(ana.page.locator("#members .you")).to_have_count(1)


def test_presence_heard_before_the_answer_to_our_subscribe_counts_after_its_roster(
    server: ServerProcess, browser: Browser
) -> None:
    # The server takes the roster when it lets us in and answers after reading the history;
    # meanwhile another connection of ours (the page before a reload, another tab) may come, and
    # then go once we are in: we stay in our own room.
    you = {"id": "g:0123456789abcdef", "name": "Ana", "guest": True}
    sockets: list[WebSocketRoute] = []

    def presence(event: str, count: int) -> str:
        return json.dumps(
            {"type": "presence", "room": "early", "event": event, **you, "count": count}
        )

    def serve(ws: WebSocketRoute) -> None:
        sockets.append(ws)

        def answer(frame: str | bytes) -> None:
            obj = json.loads(frame)
            if obj["type"] == "subscribe":
                ws.send(presence("join", 2))
                roster = {"members": [], "roster": [], "epoch": "e1", "ref": obj["ref"]}
                ws.send(json.dumps({"type": "subscribed", "room": "early", "count": 2, **roster}))
            elif obj["type"] == "ping":
                ws.send(json.dumps({"type": "pong"}))

        ws.on_message(answer)
        ws.send(json.dumps({"type": "welcome", "name": "Ana", "rooms": [], "you": you}))

    context = browser.new_context()
    try:
        context.route_web_socket(re.compile(r"/ws\?"), serve)
        ana = ChatPage.open(context, server.http, "Ana", "early")
        online = ana.page.locator("#onlineCount")
        expect(online).to_have_text("2")
        expect(ana.members).to_have_text(["Ana"])
        sockets[0].send(presence("leave", 1))
        expect(online).to_have_text("1")
        expect(ana.members).to_have_text(["Ana"])
        expect(ana.page.locator("#members .you")).to_have_count(1)
        assert ana.page_errors == []
    finally:
        context.close()
