"""The original page, served at /client/, still relays text between two browser tabs."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.support.server import ServerProcess


def test_original_page_is_served_with_a_strict_csp(server: ServerProcess) -> None:
    response = httpx.get(server.http + "/client/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'id="messageInput"' in response.text and 'id="messages"' in response.text


def test_two_original_pages_exchange_text_through_send_message(
    server: ServerProcess, browser: Browser
) -> None:
    context = browser.new_context()
    try:
        alice, bob = context.new_page(), context.new_page()
        for page in (alice, bob):
            page.goto(server.http + "/client/")
            page.wait_for_function("socket.readyState === WebSocket.OPEN")
        alice.fill("#messageInput", "olá do navegador")
        alice.evaluate("sendMessage()")
        expect(bob.locator("#messages li")).to_have_text(["olá do navegador"])
        expect(alice.locator("#messages li")).to_have_count(0)
    finally:
        context.close()
