"""Instructions written for the original page still work: its ids, sendMessage() and socket."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.frontend.pages import Opener
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import ServerProcess

INDEX = Path(__file__).resolve().parents[2] / "frontend" / "index.html"

# Records the address of every WebSocket the page opens.
RECORD_SOCKETS = """
window.__sockets = [];
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) {
    window.__sockets.push(String(url));
    super(url, protocols);
  }
};
"""


def test_the_page_keeps_the_original_ids(server: ServerProcess, open_chat: Opener) -> None:
    ana = open_chat(server.http, "Ana", "legacy-ids")
    expect(ana.page.locator("#messageInput")).to_have_count(1)
    expect(ana.page.locator("ul#messages")).to_have_count(1)


def test_two_pages_exchange_text_through_the_global_send_message(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "legacy")
    bruno = open_chat(server.http, "Bruno", "legacy")
    for chat in (ana, bruno):
        chat.page.wait_for_function("socket.readyState === WebSocket.OPEN")

    ana.page.fill("#messageInput", "olá do navegador")
    ana.page.evaluate("sendMessage()")
    expect(bruno.page.locator("#messages li .text")).to_have_text(["olá do navegador"])
    expect(ana.page.locator("#messages li.mine .text")).to_have_text(["olá do navegador"])
    expect(ana.page.locator("#messageInput")).to_have_value("")


def test_opened_from_disk_it_falls_back_to_the_local_backend(browser: Browser) -> None:
    # Chromium only runs modules from file:// with this flag; the address is what is checked.
    disk_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, "--allow-file-access-from-files"],
    )
    try:
        page = disk_browser.new_page()
        page.add_init_script(RECORD_SOCKETS)
        page.goto(INDEX.as_uri())
        page.wait_for_function("window.__sockets.length > 0")
        assert page.evaluate("window.__sockets[0]").startswith("ws://localhost:8765/ws?format=json")
    finally:
        disk_browser.close()


def test_opened_from_disk_where_scripts_cannot_run_it_says_where_to_go(browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(INDEX.as_uri())
        expect(page.locator("#notice")).to_contain_text("http://localhost:8765/client/")
    finally:
        page.close()
