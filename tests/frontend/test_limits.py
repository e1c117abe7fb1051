"""The server's limits, from `welcome`: checked before sending; failed stays failed until asked."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect
from websocket import WebSocketTimeoutException

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]

COUNT_SOCKETS = """
window.__opened = 0;
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(...args) { window.__opened += 1; super(...args); }
};
"""


def messages_within(client: JsonClient, seconds: float) -> list[str]:
    """The texts of the messages `client` receives within `seconds` (other objects ignored)."""
    texts: list[str] = []
    client.ws.settimeout(seconds)
    try:
        while True:
            obj = client.next()
            if obj["type"] == "message":
                texts.append(obj["text"])
    except WebSocketTimeoutException:
        return texts
    finally:
        client.ws.settimeout(5)


def test_a_message_over_a_lowered_server_limit_is_refused_before_sending_and_others_still_go(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"MAX_MESSAGE_BYTES": "2048"})
    ana = open_chat(backend.http, "Ana", "small", init_script=COUNT_SOCKETS)
    assert ana.page.evaluate("window.desafio.chat.limits.message_bytes") == 2048
    friend = JsonClient(backend.ws, "name=Bruno&room=small")

    ana.input.fill("x" * 3000)
    ana.input.press("Enter")
    expect(ana.notice).to_contain_text("the limit is 2 KB")
    expect(ana.input).to_have_value("x" * 3000)
    ana.say("short and sweet")
    assert friend.next_of("message")["text"] == "short and sweet"
    expect(ana.messages).to_have_count(1)
    # No connection was dropped over it, so none was opened again.
    assert ana.page.evaluate("window.__opened") == 1
    expect(ana.status).to_have_attribute("data-state", "open")
    friend.close()


def test_a_raised_server_limit_is_honoured_by_the_page(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"MAX_MESSAGE_BYTES": str(200 * 1024)})
    ana = open_chat(backend.http, "Ana", "big")
    friend = JsonClient(backend.ws, "name=Bruno&room=big")
    essay = "y" * (100 * 1024)
    ana.input.fill(essay)
    ana.input.press("Enter")
    assert friend.next_of("message")["text"] == essay
    friend.close()


def test_a_refused_message_is_failed_with_retry_and_delete_and_never_resent_by_itself(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"RATE_LIMIT_BURST": "3", "RATE_LIMIT_PER_SECOND": "0.2"})
    ana = open_chat(backend.http, "Ana", "refused")
    friend = JsonClient(backend.ws, "name=Bruno&room=refused")
    # Pretend the page did not know the rate (an older server's welcome), so the server refuses.
    ana.page.evaluate("window.desafio.chat.budget.limits = null")
    for text in ("one", "two", "three"):
        ana.say(text)
    failed = ana.page.locator('#messages .message[data-state="failed"]')
    expect(failed.first).to_contain_text("Not delivered")
    expect(ana.notice).to_contain_text("You are sending messages too fast")
    expect(ana.notice).not_to_contain_text("rate_limited")
    expect(failed.first.get_by_role("button", name="Retry")).to_be_visible()
    expect(failed.first.get_by_role("button", name="Delete")).to_be_visible()
    delivered = [friend.next_of("message")["text"] for _ in range(3 - failed.count())]
    # Nothing failed is sent again without the person asking.
    assert messages_within(friend, 1.0) == []
    refused = failed.first.locator(".text").inner_text()
    assert refused not in delivered

    failed.first.get_by_role("button", name="Delete").click()
    expect(ana.page.locator("#messages .message .text", has_text=refused)).to_have_count(0)
    friend.close()


def test_messages_typed_faster_than_the_rate_wait_their_turn_and_all_arrive(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"RATE_LIMIT_BURST": "5", "RATE_LIMIT_PER_SECOND": "4"})
    ana = open_chat(backend.http, "Ana", "paced")
    friend = JsonClient(backend.ws, "name=Bruno&room=paced")
    texts = [f"quick {n}" for n in range(8)]
    for text in texts:
        ana.say(text)
    assert [friend.next_of("message")["text"] for _ in texts] == texts
    expect(ana.page.locator('#messages .message[data-state="sent"]')).to_have_count(8)
    expect(ana.page.locator('#messages .message[data-state="failed"]')).to_have_count(0)
    friend.close()


def test_a_message_the_server_closes_the_connection_over_fails_once_and_is_not_resent(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server({"MAX_MESSAGE_BYTES": "2048"})
    ana = open_chat(backend.http, "Ana", "loop", init_script=COUNT_SOCKETS)
    friend = JsonClient(backend.ws, "name=Bruno&room=loop")
    # As a page that does not know the limit would (an older server's welcome): it sends.
    ana.page.evaluate("window.desafio.chat.limits = null; window.desafio.chat.outbox.limits = null")
    ana.say("z" * 3000)
    too_big = ana.messages.first
    expect(too_big).to_have_attribute("data-state", "failed", timeout=10_000)
    expect(too_big).to_contain_text("too long")
    expect(ana.status).to_have_attribute("data-state", "open", timeout=10_000)
    ana.say("a short one after it")
    assert friend.next_of("message")["text"] == "a short one after it"
    # One reconnect for the close, and no more: the big one is not sent again.
    ana.page.wait_for_timeout(1500)
    assert ana.page.evaluate("window.__opened") == 2
    expect(too_big).to_have_attribute("data-state", "failed")
    friend.close()
