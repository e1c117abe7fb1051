"""The page against a backend with AUTH_REQUIRED: the feed's missing credentials, and the send
box's per-viewer login (as that user, wrong password, too many attempts, log out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from tests.support.auth import SECURED, register, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

App = Callable[..., AppTest]
MISSING = (
    "The backend requires authentication: set DASHBOARD_TOKEN or "
    "DASHBOARD_USERNAME/DASHBOARD_PASSWORD"
)


@pytest.fixture(scope="module")
def secured() -> Iterator[ServerProcess]:
    # Two failed logins per user before 429, so that one test can reach the limit.
    with ServerProcess({**SECURED, "LOGIN_FAILURES_PER_USER": "2"}) as proc:
        yield proc


def button(app: AppTest, label: str) -> Button:
    return next(b for b in app.button if b.label == label)


def log_in(app: AppTest, username: str, password: str) -> AppTest:
    app.text_input(key="login_user").set_value(username)
    app.text_input(key="login_password").set_value(password)
    return button(app, "Log in").click().run()


def test_without_credentials_the_page_says_the_backend_requires_authentication(
    secured: ServerProcess, app_for: App
) -> None:
    app = app_for(secured.http)
    assert not app.exception
    assert app.error[0].value.startswith(f"{MISSING} (backend {secured.http}).")
    # The viewer can still log in to send: the send box is a login form.
    # (then the feed's filters and the history lookup; the admin panel asks for this same login)
    assert [field.label for field in app.text_input] == [
        *["Username", "Password"],
        *["Sender", "Search text", "History of room"],
    ]


def test_a_logged_in_viewer_sends_as_their_user_and_can_log_out(
    secured: ServerProcess, app_for: App
) -> None:
    assert register(secured, "Dora", "dora password").status_code == 201
    app = app_for(secured.http, DASHBOARD_TOKEN=sign("dashboard", role="admin"))
    assert [banner.value for banner in app.success] == [f"Connected to {secured.http}"]
    log_in(app, "Dora", "dora password")
    assert not app.exception and not app.error
    shown = app.text_input[1]
    assert (shown.label, shown.value, shown.disabled) == ("Display name", "dora", True)
    listener = JsonClient(secured.ws, f"room=desk&token={sign('watcher')}")
    try:
        listener.next_of("subscribed")
        app.text_input(key="send_room").set_value("desk")
        app.text_input(key="send_text").set_value("sent after logging in")
        button(app, "Send").click().run()
        message = listener.next_of("message")
    finally:
        listener.close()
    assert (message["sender"], message["text"]) == ("dora", "sent after logging in")
    assert app.success[-1].value.startswith("Sent to desk as message #")
    button(app, "Log out").click().run()
    # (then the feed's filters and the history lookup; the admin panel asks for this same login)
    assert [field.label for field in app.text_input] == [
        *["Username", "Password"],
        *["Sender", "Search text", "History of room"],
    ]


def test_a_wrong_password_shows_the_servers_refusal(secured: ServerProcess, app_for: App) -> None:
    assert register(secured, "erin", "erin password").status_code == 201
    app = log_in(app_for(secured.http), "erin", "not erin's password")
    assert not app.exception
    assert app.error[-1].value == "Login refused: wrong username or password."
    # Not kept in the viewer's session (nor the form) once used.
    assert app.text_input(key="login_password").value == ""
    assert app.text_input(key="login_user").value == "erin"
    # (then the feed's filters and the history lookup; the admin panel asks for this same login)
    assert [field.label for field in app.text_input] == [
        *["Username", "Password"],
        *["Sender", "Search text", "History of room"],
    ]


def test_too_many_attempts_says_when_to_retry(secured: ServerProcess, app_for: App) -> None:
    assert register(secured, "fritz", "fritz password").status_code == 201
    app = app_for(secured.http)
    for _ in range(3):  # the limit is 2 failures: the third attempt is refused unchecked
        log_in(app, "fritz", "wrong guess")
    assert not app.exception
    assert re.fullmatch(r"Too many attempts, retry in [1-9]\d* s\.", app.error[-1].value)
