"""The backend goes away and comes back: the page says so, reconnects by itself, loses nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.frontend.pages import ChatPage, Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

# Backoff starts at half a second and doubles; a restart takes a couple of seconds, so the page
# is back well within this (it is a ceiling for a wait, not a measured duration).
BACK_WITHIN_MS = 30_000

ServerFactory = Callable[..., ServerProcess]


def restart(make_server: ServerFactory, backend: ServerProcess, page: ChatPage) -> ServerProcess:
    """Stop the backend, see the page notice, start a new backend on the same port."""
    backend.stop()
    expect(page.status).to_have_attribute("data-state", "reconnecting")
    expect(page.page.locator("#statusText")).to_contain_text("Reconnecting")
    return make_server(port=backend.port)


def test_after_a_backend_restart_the_page_reconnects_by_itself_and_chats_again(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server()
    ana = open_chat(backend.http, "Ana", "phoenix")
    ana.say("before the restart")
    expect(ana.messages.first).to_have_attribute("data-state", "sent")

    backend = restart(make_server, backend, ana)
    expect(ana.status).to_have_attribute("data-state", "open", timeout=BACK_WITHIN_MS)
    expect(ana.page.locator("#members .you")).to_have_count(1)

    friend = JsonClient(backend.ws, "name=Bruno&room=phoenix")
    friend.send(type="publish", room="phoenix", text="welcome back")
    expect(ana.texts).to_have_text(["before the restart", "welcome back"])
    ana.say("glad to be back")
    message = friend.next_of("message")
    assert (message["sender"], message["text"]) == ("Ana", "glad to be back")
    friend.close()


def test_typing_survives_a_reconnect(make_server: ServerFactory, open_chat: Opener) -> None:
    backend = make_server()
    ana = open_chat(backend.http, "Ana", "drafts")
    ana.input.fill("half a thought")

    backend = restart(make_server, backend, ana)
    expect(ana.input).to_have_value("half a thought")
    expect(ana.status).to_have_attribute("data-state", "open", timeout=BACK_WITHIN_MS)
    expect(ana.page.locator("#members .you")).to_have_count(1)
    expect(ana.input).to_have_value("half a thought")

    friend = JsonClient(backend.ws, "name=Bruno&room=drafts")
    ana.input.press("End")
    ana.input.type(", finished")
    ana.input.press("Enter")
    assert friend.next_of("message")["text"] == "half a thought, finished"
    friend.close()


def test_a_message_sent_while_disconnected_waits_and_goes_out_after_reconnecting(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server()
    ana = open_chat(backend.http, "Ana", "outbox")
    backend.stop()
    expect(ana.status).to_have_attribute("data-state", "reconnecting")

    ana.say("sent from the tunnel")
    waiting = ana.messages.filter(has_text="sent from the tunnel")
    expect(waiting).to_have_attribute("data-state", "queued")
    expect(waiting).to_contain_text("Waiting for connection")
    expect(ana.input).to_have_value("")

    backend = make_server(port=backend.port)
    # The page may reconnect and send before Bruno has joined: he asks for the room's recent
    # history, so he sees the message either way, once.
    friend = JsonClient(backend.ws, "name=Bruno&room=outbox&history=5")
    expect(waiting).to_have_attribute("data-state", "sent", timeout=BACK_WITHIN_MS)
    assert friend.next_of("message")["text"] == "sent from the tunnel"
    friend.close()


# A time bound: open within 5 s of the click.
@pytest.mark.serial
def test_the_reconnect_can_be_hurried_with_the_retry_button(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server()
    ana = open_chat(backend.http, "Ana", "hurry")
    # A long backoff (10-20 s before the first retry), so that only the button can explain a
    # reconnect within the few seconds this test allows.
    ana.page.evaluate("window.desafio.chat.socket.backoff = {base: 20000, max: 20000}")
    backend = restart(make_server, backend, ana)
    ana.page.get_by_role("button", name="Reconnect now").click()
    expect(ana.status).to_have_attribute("data-state", "open", timeout=5_000)


# The countdown is read against the clock, and a time bound: open within 5 s of the click.
@pytest.mark.serial
def test_while_offline_people_are_greyed_and_a_countdown_tells_when_the_next_try_is(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server()
    ana = open_chat(backend.http, "Ana", "countdown")
    members = ana.page.locator("#members")
    expect(members).not_to_have_class(re.compile(r"\bstale\b"))
    ana.page.evaluate("window.desafio.chat.socket.backoff = {base: 8000, max: 8000}")
    backend.stop()
    expect(ana.status).to_have_attribute("data-state", "reconnecting")
    expect(members).to_have_class(re.compile(r"\bstale\b"))
    clock = ana.page.locator("#countdown")
    # (The first try comes quickly; from the second on, the 4-8 s backoff set above applies.)
    expect(clock).to_have_text(re.compile(r"^Next try in [3-8] s$"), timeout=10_000)
    first = int(clock.inner_text().split()[3])
    expect(clock).not_to_have_text(f"Next try in {first} s", timeout=3_000)
    assert int(clock.inner_text().split()[3]) < first
    backend = make_server(port=backend.port)
    ana.page.get_by_role("button", name="Reconnect now").click()
    expect(ana.status).to_have_attribute("data-state", "open", timeout=5_000)
    expect(members).not_to_have_class(re.compile(r"\bstale\b"))
    expect(clock).to_be_hidden()
