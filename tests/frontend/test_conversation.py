"""People in a room talk to each other through the browser client; other rooms stay out of it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def test_two_pages_in_one_room_exchange_messages_both_ways(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "garden")
    bruno = open_chat(server.http, "Bruno", "garden")

    ana.say("Hi Bruno!")
    expect(bruno.texts).to_have_text(["Hi Bruno!"])
    bruno.say("Hello Ana, good to see you")
    expect(ana.texts).to_have_text(["Hi Bruno!", "Hello Ana, good to see you"])
    expect(bruno.texts).to_have_text(["Hi Bruno!", "Hello Ana, good to see you"])

    received = bruno.messages.nth(0)
    expect(received.locator(".sender")).to_have_text("Ana")
    expect(received.locator("time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    expect(received.locator("time")).to_have_attribute("datetime", re.compile(r"Z$"))


def test_a_page_in_another_room_sees_nothing_of_the_conversation(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "kitchen")
    bruno = open_chat(server.http, "Bruno", "kitchen")
    carla = open_chat(server.http, "Carla", "attic")

    ana.say("only for the kitchen")
    expect(bruno.texts).to_have_text(["only for the kitchen"])
    # The server delivers in order: a later message in the attic arrives after anything the
    # kitchen could have leaked, so seeing exactly it proves nothing else came.
    attic = JsonClient(server.ws, "name=Dora&room=attic")
    attic.send(type="publish", room="attic", text="attic news")
    expect(carla.texts).to_have_text(["attic news"])
    expect(carla.members).to_have_text(["Carla", "Dora"])
    attic.close()


def test_own_messages_are_marked_as_mine_and_as_sent_once_acknowledged(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "porch")
    listener = JsonClient(server.ws, "name=Eve&room=porch")

    ana.say("this one is mine")
    mine = ana.messages.filter(has_text="this one is mine")
    expect(mine).to_have_class(re.compile(r"\bmine\b"))
    expect(mine).to_have_attribute("data-state", "sent")
    expect(mine.locator(".sender")).to_have_text("You")
    message = listener.next_of("message")
    assert (message["sender"], message["text"]) == ("Ana", "this one is mine")
    expect(mine).to_have_attribute("data-id", str(message["id"]))
    listener.close()


def test_the_room_comes_from_the_url_and_is_shown(server: ServerProcess, open_chat: Opener) -> None:
    ana = open_chat(server.http, "Ana", "rooftop")
    expect(ana.page.locator("#roomName")).to_have_text("rooftop")
    expect(ana.page).to_have_title(re.compile("#rooftop"))
    watcher = JsonClient(server.ws, "name=Eve&room=rooftop")
    assert watcher.next()["members"] == ["Ana"]
    watcher.close()


def test_switching_rooms_shows_the_other_room_and_keeps_the_first_one_open_with_unread_counts(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "first")
    old_room = JsonClient(server.ws, "name=Eve&room=first")
    new_room = JsonClient(server.ws, "name=Finn&room=second")

    ana.join_room("second")
    expect(ana.page.locator("#roomName")).to_have_text("second")
    expect(ana.members).to_have_text(["Ana", "Finn"])
    expect(ana.page).to_have_url(re.compile(r"\?room=second$"))
    rooms = ana.page.locator("#roomList .room-label")
    expect(rooms).to_have_text(["first", "second"])

    # One connection holds both rooms: the one not on screen counts what arrives there.
    old_room.send(type="publish", room="first", text="left behind")
    new_room.send(type="publish", room="second", text="welcome to second")
    expect(ana.texts).to_have_text(["welcome to second"])
    first = ana.page.locator('#roomList li[data-room="first"]')
    expect(first.locator(".badge")).to_have_text("1")
    first.locator(".room-link").click()
    expect(ana.page.locator("#roomName")).to_have_text("first")
    expect(ana.texts).to_have_text(["left behind"])
    expect(first.locator(".badge")).to_have_count(0)

    # Leaving a room that is not on screen unsubscribes from it.
    ana.page.get_by_role("button", name="Leave #second").click()
    expect(rooms).to_have_text(["first"])
    while (presence := new_room.next_of("presence"))["name"] != "Ana":
        pass  # others' comings and goings
    assert presence["event"] == "join"
    assert new_room.next_of("presence")["event"] == "leave"
    old_room.close()
    new_room.close()


def test_an_invalid_room_name_is_explained_and_the_room_stays(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "stay")
    ana.join_room("no spaces please")
    expect(ana.notice).to_contain_text("room name is not allowed")
    expect(ana.page.locator("#roomName")).to_have_text("stay")


def test_presence_lists_who_is_online_as_people_come_and_go(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "lounge")
    expect(ana.members).to_have_text(["Ana"])
    expect(ana.page.locator("#onlineCount")).to_have_text("1")

    bruno = open_chat(server.http, "Bruno", "lounge")
    expect(ana.members).to_have_text(["Ana", "Bruno"])
    expect(ana.page.locator("#onlineCount")).to_have_text("2")
    expect(bruno.members).to_have_text(["Ana", "Bruno"])

    bruno.page.close()
    expect(ana.members).to_have_text(["Ana"])
    expect(ana.page.locator("#onlineCount")).to_have_text("1")


def test_a_new_name_is_used_from_the_next_message_on(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, None, "names")
    listener = JsonClient(server.ws, "name=Eve&room=names")
    expect(ana.page.get_by_label("Your name")).to_have_value(re.compile(r"^guest-[0-9a-f]+$"))

    ana.page.get_by_label("Your name").fill("Anabel")
    ana.page.get_by_label("Your name").press("Enter")
    expect(ana.members).to_have_text(["Anabel", "Eve"])
    ana.say("call me Anabel")
    message = listener.next_of("message")
    assert (message["sender"], message["text"]) == ("Anabel", "call me Anabel")
    listener.close()
