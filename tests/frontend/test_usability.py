"""Labelled controls, Enter to send, focus kept, reading older messages undisturbed, phone width."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def test_every_control_has_a_label_a_screen_reader_can_announce(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "labels")
    page = ana.page
    expect(page.get_by_label("Message", exact=True)).to_have_id("messageInput")
    expect(page.get_by_label("Your name")).to_have_id("nameInput")
    expect(page.get_by_label("Room", exact=True)).to_have_id("roomInput")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("log", name="Messages")).to_have_id("messageLog")
    expect(page.get_by_role("status")).to_contain_text("Connected")


def test_enter_sends_and_focus_stays_in_the_input(server: ServerProcess, open_chat: Opener) -> None:
    ana = open_chat(server.http, "Ana", "enter")
    expect(ana.input).to_be_focused()
    ana.input.type("first")
    ana.page.keyboard.press("Enter")
    ana.page.keyboard.type("second")
    ana.page.keyboard.press("Enter")
    expect(ana.texts).to_have_text(["first", "second"])
    expect(ana.input).to_be_focused()
    expect(ana.input).to_have_value("")


def test_new_messages_do_not_yank_down_someone_reading_older_ones(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "scroll", height=600)
    friend = JsonClient(server.ws, "name=Bruno&room=scroll")
    for n in range(40):
        friend.send(type="publish", room="scroll", text=f"line {n}")
    expect(ana.texts).to_have_count(40)
    log = ana.page.locator("#messageLog")
    # At the bottom, new messages stay in view.
    expect(ana.texts.last).to_be_in_viewport()

    log.evaluate("el => { el.scrollTop = 0; }")
    friend.send(type="publish", room="scroll", text="while you were reading")
    expect(ana.texts).to_have_count(41)
    assert log.evaluate("el => el.scrollTop") == 0
    jump = ana.page.get_by_role("button", name="New messages")
    expect(jump).to_be_visible()

    jump.click()
    expect(ana.texts.last).to_be_in_viewport()
    expect(jump).to_be_hidden()
    friend.close()


def test_on_a_phone_width_screen_the_chat_fits_and_the_side_panel_folds_away(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "phone", width=375, height=700)
    ana.say("small screens welcome")
    page = ana.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(ana.input).to_be_in_viewport()
    expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
    expect(page.get_by_label("Room", exact=True)).to_be_hidden()

    menu = page.get_by_role("button", name="Rooms and people")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    ana.join_room("pocket")
    expect(page.locator("#roomName")).to_have_text("pocket")
    expect(page.get_by_label("Room", exact=True)).to_be_hidden()
    expect(ana.input).to_be_focused()


def test_on_a_phone_the_menu_closes_with_escape_or_a_tap_outside_it(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "pocket-menu", width=390, height=844)
    page = ana.page
    menu = page.get_by_role("button", name="Rooms and people")
    menu.click()
    expect(page.get_by_label("Room", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Room", exact=True)).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.mouse.click(370, 400)  # on the conversation, beside the panel
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Room", exact=True)).to_be_hidden()
