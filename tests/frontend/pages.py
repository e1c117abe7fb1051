"""The chat page as tests talk about it: open it as someone, send, read, wait for states."""

from __future__ import annotations

import json
from typing import Protocol

from playwright.sync_api import BrowserContext, Locator, Page, expect


class ChatPage:
    """One person's tab of the browser client."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @classmethod
    def open(
        cls,
        context: BrowserContext,
        base: str,
        name: str | None,
        room: str | None,
        *,
        init_script: str | None = None,
        wait: bool = True,
    ) -> ChatPage:
        if name is not None:
            # The name a person saved earlier, as the page remembers it between visits.
            context.add_init_script(f"localStorage.setItem('desafio.name', {json.dumps(name)});")
        if init_script is not None:
            context.add_init_script(init_script)
        chat = cls(context.new_page())
        query = f"?room={room}" if room is not None else ""
        chat.page.goto(f"{base}/client/{query}")
        if wait:
            chat.wait_until_in_room()
        return chat

    @property
    def input(self) -> Locator:
        return self.page.locator("#messageInput")

    @property
    def status(self) -> Locator:
        return self.page.locator("#status")

    @property
    def notice(self) -> Locator:
        return self.page.locator("#notice")

    @property
    def messages(self) -> Locator:
        return self.page.locator("#messages .message")

    @property
    def texts(self) -> Locator:
        return self.page.locator("#messages .message .text")

    @property
    def members(self) -> Locator:
        return self.page.locator("#members .member-name")

    def wait_until_in_room(self) -> None:
        """Connected, and the server confirmed the room (we are listed among its members)."""
        expect(self.status).to_have_attribute("data-state", "open")
        expect(self.page.locator("#members .you")).to_have_count(1)

    def say(self, text: str) -> None:
        """Type a message and press Enter, as a person would."""
        self.input.fill(text)
        self.input.press("Enter")

    def join_room(self, room: str) -> None:
        self.page.get_by_label("Room", exact=True).fill(room)
        self.page.get_by_label("Room", exact=True).press("Enter")


class Opener(Protocol):
    """The `open_chat` fixture."""

    def __call__(
        self,
        base: str,
        name: str | None = None,
        room: str | None = None,
        *,
        init_script: str | None = None,
        width: int = 1100,
        height: int = 720,
        wait: bool = True,
    ) -> ChatPage: ...
