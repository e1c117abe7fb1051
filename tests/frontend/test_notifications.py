"""A message arriving while the tab is hidden raises a notification and counts in the title."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.frontend.pages import ChatPage, Opener
from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory, ServerProcess

# Stands in for the browser: records every Notification and permission request, and lets the
# test hide the tab (Playwright cannot background a headless page).
OBSERVE = """
window.__notifications = [];
window.__permissionRequests = 0;
class ObservedNotification {
  static permission = "default";
  static requestPermission() {
    window.__permissionRequests += 1;
    ObservedNotification.permission = "granted";
    return Promise.resolve("granted");
  }
  constructor(title, options) {
    window.__notifications.push({ title, body: options && options.body });
  }
  close() {}
}
window.Notification = ObservedNotification;
let hidden = false;
Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
Object.defineProperty(document, "visibilityState", {
  configurable: true,
  get: () => (hidden ? "hidden" : "visible"),
});
window.__setHidden = (value) => {
  hidden = value;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


def open_observed(open_chat: Opener, server: ServerProcess, room: str) -> ChatPage:
    return open_chat(server.http, "Ana", room, init_script=OBSERVE)


def test_with_the_page_hidden_a_message_creates_a_notification_and_updates_the_title(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_observed(open_chat, server, "bells")
    ana.page.get_by_role("button", name="Notify me").click()
    expect(ana.page.locator("#notifyButton")).to_have_attribute("aria-pressed", "true")

    ana.page.evaluate("__setHidden(true)")
    friend = JsonClient(server.ws, "name=Bruno&room=bells")
    friend.send(type="publish", room="bells", text="are you there?")
    expect(ana.page).to_have_title(re.compile(r"^\(1\) #bells"))
    friend.send(type="publish", room="bells", text="hello?")
    expect(ana.page).to_have_title(re.compile(r"^\(2\) #bells"))
    notes = ana.page.evaluate("__notifications")
    assert notes == [
        {"title": "Bruno (guest) in #bells", "body": "are you there?"},
        {"title": "Bruno (guest) in #bells", "body": "hello?"},
    ]

    ana.page.evaluate("__setHidden(false)")
    expect(ana.page).to_have_title("#bells · DeSafio chat")
    friend.close()


def test_a_guest_s_notification_title_says_guest_and_a_registered_sender_s_does_not(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    # A notification shows only the title and body, not the page's guest tag: without a marker
    # there, a guest whose name renders as "maria" would pass for the registered maria.
    backend = make_server({"JWT_SECRET": SECRET})
    ana = open_observed(open_chat, backend, "marked")
    ana.page.get_by_role("button", name="Notify me").click()
    expect(ana.page.locator("#notifyButton")).to_have_attribute("aria-pressed", "true")
    ana.page.evaluate("__setHidden(true)")

    maria = JsonClient(backend.ws, f"room=marked&token={sign('maria')}")
    maria.next_of("subscribed")
    maria.send(type="publish", room="marked", text="from the real maria", ref="m1")
    expect(ana.page).to_have_title(re.compile(r"^\(1\) #marked"))
    guest = JsonClient(backend.ws, "name=Maria2&room=marked")
    guest.send(type="publish", room="marked", text="from a guest", ref="g1")
    expect(ana.page).to_have_title(re.compile(r"^\(2\) #marked"))
    guest.send(type="publish", room="marked", text="@Ana re-enter your password", ref="g2")
    expect(ana.page).to_have_title(re.compile(r"^\(3\) #marked"))

    titles = [note["title"] for note in ana.page.evaluate("__notifications")]
    assert titles == [
        "maria in #marked",
        "Maria2 (guest) in #marked",
        "Maria2 (guest) mentioned you in #marked",
    ]
    maria.close()
    guest.close()


def test_permission_is_never_asked_on_load_only_from_the_button(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_observed(open_chat, server, "quiet")
    assert ana.page.evaluate("__permissionRequests") == 0
    ana.page.get_by_role("button", name="Notify me").click()
    expect(ana.page.locator("#notifyButton")).to_contain_text("Notifications on")
    assert ana.page.evaluate("__permissionRequests") == 1


def test_a_visible_page_neither_notifies_nor_counts_unread(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_observed(open_chat, server, "visible")
    ana.page.get_by_role("button", name="Notify me").click()
    friend = JsonClient(server.ws, "name=Bruno&room=visible")
    friend.send(type="publish", room="visible", text="in plain sight")
    expect(ana.texts).to_have_text(["in plain sight"])
    assert ana.page.evaluate("__notifications") == []
    expect(ana.page).to_have_title("#visible · DeSafio chat")
    friend.close()


def test_without_permission_a_hidden_page_still_counts_unread_in_the_title(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_observed(open_chat, server, "nobell")
    ana.page.evaluate("__setHidden(true)")
    friend = JsonClient(server.ws, "name=Bruno&room=nobell")
    friend.send(type="publish", room="nobell", text="psst")
    expect(ana.page).to_have_title(re.compile(r"^\(1\) #nobell"))
    assert ana.page.evaluate("__notifications") == []
    friend.close()
