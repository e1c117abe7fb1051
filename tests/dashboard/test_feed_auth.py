"""The feed client and history against a backend with AUTH_REQUIRED: a service token, a user's
login renewed before it expires, and a clear state without (valid) credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from dashboard.auth import MISSING_CREDENTIALS
from dashboard.feed import FeedClient
from dashboard.history import HttpHistory
from dashboard.store import LinkState
from tests.support.auth import SECRET, SECURED, register, sign
from tests.support.clients import JsonClient
from tests.support.server import ROOT, ServerFactory, ServerProcess
from tests.support.waiting import eventually

Feed = Callable[..., FeedClient]


@pytest.fixture(scope="module")
def secured() -> Iterator[ServerProcess]:
    with ServerProcess(SECURED) as proc:
        yield proc


def service_token() -> str:
    """A token as the operator mints it for the dashboard (README): the real command."""
    env = {**os.environ, "AUTH_REQUIRED": "true", "JWT_SECRET": SECRET}
    command = [sys.executable, "-m", "backend.auth", "token", "dashboard", "--role", "admin"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def connected(feed: FeedClient) -> bool:
    snap = feed.snapshot()
    return snap.link.state is LinkState.CONNECTED and "lobby" in snap.rooms


def texts(feed: FeedClient) -> list[str]:
    return [msg.text for msg in feed.snapshot().messages]


def publish(server: ServerProcess, user: str, room: str, text: str) -> None:
    author = JsonClient(server.ws, f"token={sign(user)}")
    try:
        author.send(type="publish", room=room, text=text, ref="1")
        assert author.next_of("ack")["ref"] == "1"
    finally:
        author.close()


def test_feed_with_a_service_token_receives_messages(
    secured: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(secured.http, token=service_token())
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    publish(secured, "alice", "lobby", "seen with a service token")
    eventually(lambda: "seen with a service token" in texts(feed), what="the message")
    assert feed.snapshot().messages[0].sender == "alice"
    assert feed.auth_config is not None and feed.auth_config.auth_required


def test_feed_without_credentials_says_the_backend_requires_authentication(
    secured: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(secured.http)
    assert feed.wait_first_attempt(10.0)
    link = feed.snapshot().link
    assert (link.state, link.detail) == (LinkState.UNAUTHORIZED, MISSING_CREDENTIALS)
    assert feed.connections == 0


def test_feed_with_a_bad_token_says_the_backend_refused_it(
    secured: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(secured.http, token=sign("dashboard", expires_in=-5))
    assert feed.wait_first_attempt(10.0)
    link = feed.snapshot().link
    assert link.state is LinkState.UNAUTHORIZED
    assert link.detail.startswith("The backend refused the dashboard's credentials: ")


def test_feed_with_a_wrong_password_shows_the_login_refusal(
    secured: ServerProcess, make_feed: Feed
) -> None:
    assert register(secured, "feed-wrong", "the right one").status_code == 201
    feed = make_feed(secured.http, username="feed-wrong", password="not the right one")
    assert feed.wait_first_attempt(10.0)
    link = feed.snapshot().link
    assert link.state is LinkState.UNAUTHORIZED
    assert link.detail == (
        "The dashboard could not log in as feed-wrong: Login refused: wrong username or password."
    )


# Tokens live 6 s, and the renewal (an Argon2 login) has the last 2 s of one.
@pytest.mark.serial
def test_feed_logs_in_with_a_password_and_renews_its_token_without_reconnecting(
    make_server: ServerFactory, make_feed: Feed
) -> None:
    server = make_server({**SECURED, "TOKEN_TTL_SECONDS": "6"})
    assert register(server, "feeder", "feeder password").status_code == 201
    feed = make_feed(server.http, username="feeder", password="feeder password")
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    # Past two lifetimes of the first token: without renewal the backend would have closed 4001.
    until = time.monotonic() + 13.0
    eventually(lambda: time.monotonic() > until, timeout=20.0, what="two token lifetimes")
    publish(server, "bruno", "lobby", "after the first token expired")
    eventually(lambda: "after the first token expired" in texts(feed), what="the message")
    assert feed.connections == 1
    assert feed.snapshot().link.state is LinkState.CONNECTED


def test_history_sends_the_bearer_token_when_one_is_configured(secured: ServerProcess) -> None:
    publish(secured, "carla", "archive", "stored")
    with httpx.Client(timeout=5.0) as client:
        anonymous = HttpHistory(client, secured.http).latest("archive", 10)
        token = sign("reader")
        authorized = HttpHistory(client, secured.http, lambda: token).latest("archive", 10)
    assert anonymous is None  # 401: the backend requires a token for history too
    assert authorized is not None and [m["text"] for m in authorized] == ["stored"]
