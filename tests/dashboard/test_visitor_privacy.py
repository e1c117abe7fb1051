"""A visitor of the page sees only what their own credentials may read, whatever the feed's
token (an admin's DASHBOARD_TOKEN receives private rooms too)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import visibility as visibility_module
from dashboard.visibility import RoomVisibility
from tests.dashboard.conftest import rerun_until
from tests.support.auth import SECRET, SECURED, login, register, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

App = Callable[..., AppTest]


def shows(app: AppTest, text: str) -> bool:
    return any(text in html.value for html in app.html)


@pytest.fixture(scope="module")
def secured() -> Iterator[ServerProcess]:
    with ServerProcess(SECURED) as proc:
        yield proc


def test_a_visitor_who_never_logged_in_sees_no_private_message_of_an_admin_feed(
    secured: ServerProcess, app_for: App
) -> None:
    assert register(secured, "ana", "ana password").status_code == 201
    poster = JsonClient(secured.ws, f"token={sign('ops', role='admin')}")
    try:
        for room in ("staff", "desk"):
            poster.send(type="subscribe", room=room)
            poster.next_of("subscribed")
        insider = app_for(secured.http, DASHBOARD_TOKEN=sign("dashboard", role="admin"))
        rerun_until(insider, lambda app: bool(app.text_input), "the login form")
        insider.text_input(key="login_user").set_value("ana")
        insider.text_input(key="login_password").set_value("ana password")
        next(b for b in insider.button if b.label == "Log in").click().run()
        poster.send(type="publish", room="staff", text="secret plan")
        poster.send(type="publish", room="desk", text="desk notice")
        # Ana may read both rooms: the feed (admin token) has both messages.
        rerun_until(insider, lambda app: shows(app, "secret plan"), "the private message")
        rerun_until(insider, lambda app: shows(app, "desk notice"), "the open message")
        # A second visitor of the same dashboard process (the same feed), never logged in: with
        # AUTH_REQUIRED no room is open to them, so nothing at all is shown.
        stranger = app_for(secured.http, DASHBOARD_TOKEN=sign("dashboard", role="admin"))
        for _ in range(3):
            stranger.run()
            assert not shows(stranger, "secret plan") and not shows(stranger, "desk notice")
        assert any("Showing open rooms only" in c.value for c in stranger.caption)
        assert not any("staff" in c.value for c in stranger.caption)
    finally:
        poster.close()


def test_room_visibility_follows_the_backends_rules_for_each_visitor(
    make_server: Callable[[dict[str, str]], ServerProcess],
) -> None:
    server = make_server({"JWT_SECRET": SECRET, "PRIVATE_ROOMS": '{"staff": {"users": ["ana"]}}'})
    assert register(server, "ana", "ana password").status_code == 201
    assert register(server, "bob", "bob password").status_code == 201
    ana = login(server, "ana", "ana password").json()["access_token"]
    bob = login(server, "bob", "bob password").json()["access_token"]
    visibility = RoomVisibility(server.http)
    try:
        rooms = {"lobby", "staff"}
        assert visibility.readable(rooms, None) == {"lobby"}  # open rooms only
        assert visibility.readable(rooms, bob) == {"lobby"}
        assert visibility.readable(rooms, ana) == {"lobby", "staff"}
        assert visibility.readable(rooms, "not a token") == set()  # refused: nothing shown
    finally:
        visibility.close()
    assert httpx.get(server.http + "/rooms/staff/messages").status_code == 401


# Stands in for CACHE_SECONDS (30 s) so that an answer can be let grow stale within a test.
SHORT_CACHE = 0.3


def test_a_stale_answer_is_not_used_once_the_backend_is_gone(
    make_server: Callable[[dict[str, str]], ServerProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server({"JWT_SECRET": SECRET, "PRIVATE_ROOMS": '{"staff": {"users": ["ana"]}}'})
    assert register(server, "ana", "ana password").status_code == 201
    ana = login(server, "ana", "ana password").json()["access_token"]
    visibility = RoomVisibility(server.http, timeout=1.0)
    try:
        assert visibility.may_read("staff", ana) is True
        server.stop()  # from now on every question is refused a connection
        # Still fresh (the real 30 s): the answer stands without asking.
        assert visibility.may_read("staff", ana) is True
        # Once stale, the room is hidden: ana's access may have been taken away meanwhile, and
        # nobody can say otherwise.
        monkeypatch.setattr(visibility_module, "CACHE_SECONDS", SHORT_CACHE)
        time.sleep(SHORT_CACHE)
        assert visibility.may_read("staff", ana) is False
        assert visibility.may_read("staff", ana) is False  # and stays hidden
    finally:
        visibility.close()


@pytest.mark.parametrize("status", [503, 429])
def test_a_stale_answer_is_not_used_when_the_backend_answers_without_a_verdict(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"status": 200}

    class Backend(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answers["status"])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass  # keep the test's output to the test

    backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    monkeypatch.setattr(visibility_module, "CACHE_SECONDS", SHORT_CACHE)
    visibility = RoomVisibility(f"http://127.0.0.1:{backend.server_address[1]}", timeout=1.0)
    try:
        assert visibility.may_read("staff", "a token") is True
        answers["status"] = status
        time.sleep(SHORT_CACHE)
        assert visibility.may_read("staff", "a token") is False
        assert visibility.may_read("staff", None) is False  # never asked before: hidden too
        answers["status"] = 200  # the backend answers again: so does the dashboard
        assert visibility.may_read("staff", "a token") is True
    finally:
        visibility.close()
        backend.shutdown()
        backend.server_close()
