"""Fixtures for the browser client: people, each in their own browser context, on a real backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.frontend.pages import ChatPage, Opener


@pytest.fixture
def open_chat(browser: Browser) -> Iterator[Opener]:
    """Open the client as someone; every page must end the test without an uncaught error."""
    contexts: list[BrowserContext] = []
    pages: list[ChatPage] = []

    def opener(
        base: str,
        name: str | None = None,
        room: str | None = None,
        *,
        init_script: str | None = None,
        width: int = 1100,
        height: int = 720,
        wait: bool = True,
    ) -> ChatPage:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        chat = ChatPage.open(context, base, name, room, init_script=init_script, wait=wait)
        pages.append(chat)
        return chat

    yield opener
    errors = [error for chat in pages for error in chat.page_errors]
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
