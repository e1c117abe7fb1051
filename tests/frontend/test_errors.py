"""What goes wrong is told in plain words, and nothing typed is lost to it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]


def test_a_message_over_the_size_limit_is_refused_before_sending_and_kept(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "essays")
    essay = "x" * (70 * 1024)
    ana.input.fill(essay)
    ana.input.press("Enter")
    expect(ana.notice).to_contain_text("too long to send")
    expect(ana.messages).to_have_count(0)
    expect(ana.input).to_have_value(essay)
    expect(ana.status).to_have_attribute("data-state", "open")


def test_an_empty_message_is_not_sent(server: ServerProcess, open_chat: Opener) -> None:
    ana = open_chat(server.http, "Ana", "blank")
    ana.say("   ")
    expect(ana.notice).to_contain_text("Type a message first")
    expect(ana.messages).to_have_count(0)
