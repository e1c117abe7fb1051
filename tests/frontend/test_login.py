"""With AUTH_REQUIRED the client asks for a login, and then chats as the logged-in user."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.auth import SECURED, register, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory


def test_a_person_logs_in_and_speaks_under_their_username(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    server = make_server(SECURED)
    register(server, "ana", "correct horse")
    watcher = JsonClient(server.ws, f"room=login&token={sign('watcher')}")
    watcher.next_of("subscribed")
    chat = open_chat(server.http, "Mallory", "login", wait=False)
    chat.page.locator("#loginName").fill("ana")
    chat.page.locator("#loginPassword").fill("wrong horse")
    chat.page.locator("#loginPassword").press("Enter")
    expect(chat.page.locator("#loginProblem")).to_have_text("Wrong name or password.")
    chat.page.locator("#loginPassword").fill("correct horse")
    chat.page.locator("#loginPassword").press("Enter")
    chat.wait_until_in_room()
    expect(chat.page.locator("#loginForm")).to_have_count(0)
    chat.say("hello as ana")
    message = watcher.next_of("message")
    assert (message["sender"], message["text"]) == ("ana", "hello as ana")
