"""Who wrote what is decided by ids, never names: two tabs called Ana, guests, registered users."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests.frontend.pages import Opener
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
