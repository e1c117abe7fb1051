"""What goes wrong is told in plain words, and nothing typed is lost to it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]


def test_sending_too_fast_is_explained_in_plain_words_and_the_message_marked_undelivered(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"RATE_LIMIT_BURST": "2", "RATE_LIMIT_PER_SECOND": "0.5"})
    ana = open_chat(backend.http, "Ana", "hasty")
    # Joining takes tokens too (the subscribe, and the ping that marks the end of its replay):
    # three quick messages find the bucket empty.
    for text in ("one", "two", "three"):
        ana.say(text)

    expect(ana.notice).to_contain_text("You are sending messages too fast")
    refused = ana.page.locator('#messages .message[data-state="failed"]')
    expect(refused.first).to_contain_text("Not delivered")
    expect(ana.notice).not_to_contain_text("rate_limited")
    expect(refused.first.get_by_role("button", name="Retry")).to_be_visible()
    expect(ana.status).to_have_attribute("data-state", "open")


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
