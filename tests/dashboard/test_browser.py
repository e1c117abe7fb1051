"""The real dashboard (`streamlit run`) in the system Chromium, beside a real backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.clients import JsonClient
from tests.support.dashboard import DashboardProcess
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def dashboard(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with DashboardProcess(server.http, home=tmp_path_factory.mktemp("home")) as proc:
        yield proc.url


@pytest.fixture
def page(browser: Browser, dashboard: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(dashboard)
        expect(page.get_by_text("Connected to")).to_be_visible(timeout=20_000)
        yield page
    finally:
        context.close()


def test_dashboard_page_shows_a_message_from_an_outside_client(
    server: ServerProcess, page: Page
) -> None:
    text = f"from outside {uuid.uuid4().hex[:8]}"
    author = JsonClient(server.ws, "name=outsider")
    try:
        author.send(type="publish", room="lobby", text=text)
        expect(page.locator("td.feed-text", has_text=text)).to_be_visible(timeout=10_000)
    finally:
        author.close()
    row = page.locator("table.feed tr", has_text=text)
    expect(row.locator("td.feed-sender")).to_have_text("outsider (guest)")  # no token: a guest
    expect(row.locator("td.feed-room")).to_have_text("lobby")


def test_dashboard_send_box_reaches_an_outside_client(server: ServerProcess, page: Page) -> None:
    listener = JsonClient(server.ws, "name=watcher&room=lobby", timeout=15.0)
    try:
        box = page.get_by_role("textbox", name="Message", exact=True)
        box.fill("typed in the browser")
        box.press("Enter")
        message = listener.next_of("message")
    finally:
        listener.close()
    assert (message["room"], message["sender"], message["text"]) == (
        "lobby",
        "operator",
        "typed in the browser",
    )
    expect(page.get_by_text("Sent to lobby as message #")).to_be_visible()
