"""User text is only ever text, and the page lives within its Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from playwright.sync_api import ConsoleMessage, expect

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

ATTACK = '<img src=x onerror="window.__pwned = true"><script>window.__pwned = true</script>'

# Records every CSP violation the page causes, from its very first script on.
LISTEN_FOR_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_a_message_containing_html_is_shown_as_text_and_runs_nothing(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "xss")
    bruno = open_chat(server.http, "Bruno", "xss")

    ana.say(ATTACK)
    expect(bruno.texts).to_have_text([ATTACK])
    expect(ana.texts).to_have_text([ATTACK])
    for page in (ana.page, bruno.page):
        expect(page.locator("#messages img")).to_have_count(0)
        expect(page.locator("#messages script")).to_have_count(0)
        assert page.evaluate("window.__pwned") is None


def test_a_sender_name_containing_html_is_shown_as_text(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "xss-names")
    mallory = JsonClient(
        server.ws, urlencode({"name": "<b onclick=x>Mal</b>", "room": "xss-names"})
    )
    mallory.send(type="publish", room="xss-names", text="hi")
    expect(ana.messages.locator(".sender")).to_have_text(["<b onclick=x>Mal</b>"])
    expect(ana.members).to_have_text(["<b onclick=x>Mal</b>", "Ana"])
    expect(ana.page.locator("#messages b, #members b")).to_have_count(0)
    mallory.close()


def test_the_client_is_served_with_a_strict_content_security_policy(
    server: ServerProcess,
) -> None:
    response = httpx.get(server.http + "/client/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_does_nothing_on_load_or_while_chatting_that_violates_the_csp(
    server: ServerProcess, open_chat: Opener
) -> None:
    console: list[str] = []
    ana = open_chat(server.http, "Ana", "csp", init_script=LISTEN_FOR_VIOLATIONS, wait=False)

    def remember(message: ConsoleMessage) -> None:
        console.append(message.text)

    ana.page.on("console", remember)
    ana.page.reload()
    ana.wait_until_in_room()
    bruno = open_chat(server.http, "Bruno", "csp")
    bruno.say("hello <b>csp</b>")
    expect(ana.texts).to_have_text(["hello <b>csp</b>"])
    ana.say("and back")
    expect(bruno.texts).to_have_text(["hello <b>csp</b>", "and back"])

    assert ana.page.evaluate("window.__violations") == []
    assert [text for text in console if "Content Security Policy" in text] == []
    # The stylesheet really applied (a blocked one would leave the default white header).
    header = ana.page.locator(".topbar")
    assert header.evaluate("el => getComputedStyle(el).display") == "flex"
