"""The service worker in Chromium: registered with the client's scope, it shows a pushed message
as a notification. Chromium cannot reach a real push service here, so the test hands the push
handler a synthetic event carrying the payload the server would send."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Worker, expect

from tests.backend.push.test_delivery import PUBLIC_KEY, push_env
from tests.frontend.pages import ChatPage
from tests.support.server import ServerFactory

PAYLOAD = {
    "room": "news",
    "id": 42,
    "sender": "dan",
    "sender_id": "s:dan",
    "guest": False,
    "text": "the build is green",
}

# Calls the worker's push handler as the browser would, with an event whose data is the payload;
# resolves once the handler's waitUntil promise has, with the notifications then showing.
DISPATCH = """async (payload) => {
  const raw = JSON.stringify(payload);
  let done = null;
  self.desafioPush.onPush({
    data: { json: () => JSON.parse(raw), text: () => raw },
    waitUntil(promise) { done = promise; },
  });
  await done;
  const shown = await self.registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
}"""


def test_the_service_worker_shows_a_pushed_message(
    browser: Browser, make_server: ServerFactory
) -> None:
    server = make_server(push_env(AUTH_REQUIRED="false"))
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=server.http)
    try:
        chat = ChatPage.open(context, server.http, "ana", "news")
        # The page registered the worker once /push/config said push is on.
        expect(chat.page.locator("#pushButton")).to_be_visible()
        scope = chat.page.evaluate(
            "navigator.serviceWorker.ready.then((registration) => registration.scope)"
        )
        assert scope == f"{server.http}/client/"
        config = chat.page.evaluate("window.desafio.push.config")
        assert config == {"enabled": True, "public_key": PUBLIC_KEY}
        worker: Worker = context.service_workers[0]
        assert worker.url == f"{server.http}/client/sw.js"

        shown: list[dict[str, Any]] = worker.evaluate(DISPATCH, PAYLOAD)
        assert shown == [
            {
                "title": "dan in #news",
                "body": "the build is green",
                "tag": "desafio-news",
                "data": {"room": "news", "id": 42, "url": f"{server.http}/client/?room=news"},
            }
        ]
        # A guest's name is whatever it typed: the title says it is a guest's.
        guest = {**PAYLOAD, "id": 43, "sender": "maria", "sender_id": "g:0123", "guest": True}
        shown = worker.evaluate(DISPATCH, guest)
        assert [note["title"] for note in shown] == ["maria (guest) in #news"]
        # Something that is not one of ours shows nothing.
        again = worker.evaluate(DISPATCH.replace("JSON.stringify(payload)", "'not json'"), None)
        assert len(again) == 1
        assert chat.page_errors == []
    finally:
        context.close()


def test_push_is_not_offered_when_the_server_has_no_vapid_key(
    browser: Browser, make_server: ServerFactory
) -> None:
    server = make_server()
    context = browser.new_context()
    try:
        chat = ChatPage.open(context, server.http, "ana", "news")
        expect(chat.page.locator("#notifyButton")).to_be_visible()
        expect(chat.page.locator("#pushButton")).to_be_hidden()
        config = chat.page.evaluate("fetch('/push/config').then((r) => r.json())")
        assert config == {"enabled": False, "public_key": None}
        assert chat.page.evaluate("navigator.serviceWorker.getRegistrations()") == []
    finally:
        context.close()
