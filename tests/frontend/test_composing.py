"""Writing and reading messages: several lines, links, @mentions, long messages, typing, edits."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.frontend.test_notifications import OBSERVE
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def test_shift_enter_starts_a_new_line_and_enter_sends_the_whole_message(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "lines")
    friend = JsonClient(server.ws, "name=Bruno&room=lines")
    ana.input.type("first line")
    ana.input.press("Shift+Enter")
    ana.input.type("second line")
    expect(ana.input).to_have_value("first line\nsecond line")
    ana.input.press("Enter")
    assert friend.next_of("message")["text"] == "first line\nsecond line"
    expect(ana.input).to_have_value("")
    expect(ana.texts).to_have_text(["first line\nsecond line"])
    friend.close()


def test_web_addresses_become_safe_links_and_other_schemes_stay_text(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "links")
    friend = JsonClient(server.ws, "name=Bruno&room=links")
    friend.send(
        type="publish",
        room="links",
        text="docs at https://example.com/a?b=1&c=<2>. and javascript:alert(1) too",
    )
    link = ana.texts.first.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://example.com/a?b=1&c=")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"noopener"))
    expect(ana.texts.first).to_contain_text("javascript:alert(1) too")
    friend.close()


def test_a_mention_is_highlighted_and_notifies_even_from_another_room(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "mentions", init_script=OBSERVE)
    ana.page.get_by_role("button", name="Notify me").click()
    friend = JsonClient(server.ws, "name=Bruno&room=mentions")
    friend.send(type="publish", room="mentions", text="hey @Ana, look; @Anabel is someone else")
    friend.send(type="publish", room="mentions", text="thanks @ana.")
    mention = ana.messages.first
    expect(mention).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(mention.locator(".mention.me")).to_have_text(["@Ana"])
    expect(ana.messages.nth(1).locator(".mention.me")).to_have_text(["@ana"])
    expect(mention.locator(".mention:not(.me)")).to_have_text(["@Anabel"])

    ana.join_room("elsewhere")
    expect(ana.page.locator("#roomName")).to_have_text("elsewhere")
    friend.send(type="publish", room="mentions", text="@ana are you there?")
    badge = ana.page.locator('#roomList li[data-room="mentions"] .badge')
    expect(badge).to_have_text("1")
    expect(badge).to_have_class(re.compile(r"\bmention\b"))
    ana.page.wait_for_function("window.__notifications.length === 1")
    # Bruno has no account: the title says so, as the message list does.
    title = ana.page.evaluate("__notifications")[0]["title"]
    assert title == "Bruno (guest) mentioned you in #mentions"
    friend.close()


def test_a_very_long_message_is_folded_until_asked(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "essays", height=800)
    friend = JsonClient(server.ws, "name=Bruno&room=essays")
    friend.send(type="publish", room="essays", text="word " * 12_000)
    message = ana.messages.first
    expect(message).to_have_class(re.compile(r"\bcollapsed\b"))
    folded = message.bounding_box()
    assert folded is not None and folded["height"] < 500
    more = message.get_by_role("button", name="Show more")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(message.get_by_role("button", name="Show less")).to_have_attribute(
        "aria-expanded", "true"
    )
    unfolded = message.bounding_box()
    assert unfolded is not None and unfolded["height"] > 1000
    friend.close()


def test_the_others_see_who_is_typing_and_that_a_guest_is_one_until_the_message_arrives(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "typists")
    bruno = open_chat(server.http, "Bruno", "typists")
    ana.input.type("hello the")
    expect(bruno.page.locator("#typing")).to_have_text("Ana (guest) is typing…")
    expect(ana.page.locator("#typing")).to_have_text("")
    ana.input.type("re")
    ana.input.press("Enter")
    expect(bruno.texts).to_have_text(["hello there"])
    expect(bruno.page.locator("#typing")).to_have_text("")
    # A notice that is not followed by a message fades on its own.
    ana.page.wait_for_timeout(2600)  # the page sends at most one notice per 2.5 s
    ana.input.type("hmm")
    expect(bruno.page.locator("#typing")).to_have_text("Ana (guest) is typing…")
    expect(bruno.page.locator("#typing")).to_have_text("", timeout=8_000)


def test_the_author_edits_and_deletes_a_message_and_everyone_sees_it_also_later(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "amend")
    bruno = open_chat(server.http, "Bruno", "amend")
    ana.say("teh first")
    ana.say("a secret")
    expect(bruno.texts).to_have_text(["teh first", "a secret"])
    # Only the author is offered the actions.
    expect(bruno.messages.first.get_by_role("button", name="Edit message")).to_have_count(0)

    first = ana.messages.first
    first.hover()
    first.get_by_role("button", name="Edit message").click()
    editor = first.get_by_role("textbox", name="Edit message")
    editor.fill("the first")
    editor.press("Enter")
    expect(bruno.texts.first).to_have_text("the first")
    expect(bruno.messages.first.locator(".edited")).to_have_text("(edited)")
    expect(ana.texts.first).to_have_text("the first")

    second = ana.messages.nth(1)
    second.hover()
    second.get_by_role("button", name="Delete message").click()
    second.get_by_role("button", name="Delete for everyone").click()
    expect(bruno.texts.nth(1)).to_have_text("This message was deleted.")
    expect(ana.texts.nth(1)).to_have_text("This message was deleted.")

    carla = open_chat(server.http, "Carla", "amend")
    expect(carla.texts).to_have_text(["the first", "This message was deleted."])
    expect(carla.messages.first.locator(".edited")).to_have_text("(edited)")
    assert "a secret" not in carla.page.content()


def test_arrow_up_in_an_empty_composer_edits_the_last_own_message(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "uparrow")
    ana.say("typo hree")
    expect(ana.messages.first).to_have_attribute("data-state", "sent")
    ana.input.press("ArrowUp")
    editor = ana.messages.first.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    editor.fill("typo here")
    editor.press("Escape")
    expect(ana.texts.first).to_have_text("typo hree")
