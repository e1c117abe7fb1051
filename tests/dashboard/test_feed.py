"""The feed client against a real backend: it follows rooms, reconnects, and stays bounded."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from dashboard.feed import FeedClient
from dashboard.store import LinkState
from dashboard.view import ALL_ROOMS, feed_rows
from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory, ServerProcess, free_port
from tests.support.waiting import eventually

Feed = Callable[..., FeedClient]


def texts(feed: FeedClient) -> list[str]:
    return [msg.text for msg in feed.snapshot().messages]


def connected(feed: FeedClient) -> bool:
    return feed.snapshot().link.state is LinkState.CONNECTED and "lobby" in feed.snapshot().rooms


def test_feed_client_receives_messages_published_by_another_client(
    server: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(server.http)
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    author = JsonClient(server.ws, "name=alice")
    try:
        author.send(type="publish", room="lobby", text="first", ref="1")
        author.send(type="publish", room="lobby", text="second", ref="2")
        eventually(lambda: texts(feed)[:2] == ["second", "first"], what="both messages")
    finally:
        author.close()
    newest = feed.snapshot().messages[0]
    assert (newest.room, newest.sender, newest.guest) == ("lobby", "alice", True)
    assert feed.last_ids["lobby"] == newest.id


def test_without_a_token_the_feed_goes_by_a_guest_name_when_its_own_is_kept_for_a_service(
    make_server: ServerFactory, make_feed: Feed
) -> None:
    server = make_server({"JWT_SECRET": SECRET})
    # The dashboard's own token, used once on this database: "dashboard" is kept for it, and a
    # guest may not take it.
    used = httpx.get(
        server.http + "/rooms/lobby/messages",
        headers={"Authorization": "Bearer " + sign("dashboard", role="admin")},
    )
    assert used.status_code == 200
    feed = make_feed(server.http)
    eventually(lambda: connected(feed), what="the feed to follow lobby")


def test_the_feed_tells_a_guest_from_a_token_holder_of_the_same_name(
    make_server: ServerFactory, make_feed: Feed
) -> None:
    server = make_server({"JWT_SECRET": SECRET})
    feed = make_feed(server.http)
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    guest = JsonClient(server.ws, "name=alerts")
    bot = JsonClient(server.ws, "token=" + sign("alerts"))
    guest.send(type="publish", room="lobby", text="from the guest", ref="g")
    eventually(lambda: texts(feed)[:1] == ["from the guest"], what="the guest's message")
    bot.send(type="publish", room="lobby", text="from the token", ref="t")
    eventually(lambda: texts(feed)[:1] == ["from the token"], what="the token's message")
    newest, older = feed.snapshot().messages[:2]
    assert (newest.sender, newest.guest, older.sender, older.guest) == (
        "alerts", False, "alerts", True,
    )  # fmt: skip
    rows = feed_rows([newest, older], room=ALL_ROOMS, zone="UTC")
    assert [row["sender"] for row in rows] == ["alerts", "alerts (guest)"]


def test_feed_client_follows_a_room_that_stats_lists(
    server: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(server.http)
    member = JsonClient(server.ws, "name=bob&room=ops")
    try:
        eventually(lambda: "ops" in feed.snapshot().rooms, what="the feed to follow ops")
        member.send(type="publish", room="ops", text="deploy done")
        eventually(lambda: "deploy done" in texts(feed), what="the ops message")
    finally:
        member.close()


def test_feed_client_leaves_a_room_once_it_is_the_only_member(
    server: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(server.http)
    member = JsonClient(server.ws, "name=carol&room=ephemeral")
    eventually(lambda: "ephemeral" in feed.snapshot().rooms, what="the feed to follow it")
    member.close()
    eventually(lambda: "ephemeral" not in feed.snapshot().rooms, what="the feed to leave it")

    def forgotten() -> bool:
        stats = feed.snapshot().stats
        return stats is not None and "ephemeral" not in stats.rooms

    eventually(forgotten, what="the backend to forget the room")


def test_feed_client_survives_a_backend_restart(
    make_server: Callable[..., ServerProcess], make_feed: Feed
) -> None:
    first = make_server()
    feed = make_feed(first.http, backoff_max_seconds=1.0)
    eventually(lambda: connected(feed), what="the first connection")
    first.terminate()
    eventually(
        lambda: feed.snapshot().link.state is not LinkState.CONNECTED, what="the loss to show"
    )
    second = make_server(port=first.port)
    eventually(lambda: connected(feed), timeout=20.0, what="the feed to reconnect")
    author = JsonClient(second.ws, "name=dave")
    try:
        author.send(type="publish", room="lobby", text="after the restart")
        eventually(lambda: "after the restart" in texts(feed), what="a message after restart")
    finally:
        author.close()


def test_feed_client_reports_the_backend_down_when_nothing_listens(make_feed: Feed) -> None:
    feed = make_feed(f"http://127.0.0.1:{free_port()}")
    assert feed.wait_first_attempt(10.0)
    link = feed.snapshot().link
    assert link.state is LinkState.DOWN
    assert link.detail == "connection refused" and link.retry_at is not None
    assert feed.alive


def test_feed_client_bounds_its_memory(server: ServerProcess, make_feed: Feed) -> None:
    # Without history on joining, so that `received` counts exactly the 60 published here.
    feed = make_feed(server.http, feed_size=20, text_limit=50, history_on_join=0)
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    author = JsonClient(server.ws, "name=erin")
    try:
        for n in range(60):
            author.send(type="publish", room="lobby", text=f"m{n} " + "x" * 5000, ref=str(n))
        for _ in range(60):
            author.next_of("ack")
        eventually(lambda: feed.snapshot().received == 60, what="all 60 messages")
    finally:
        author.close()
    messages = feed.snapshot().messages
    assert len(messages) == 20
    assert messages[0].text.startswith("m59 ") and messages[-1].text.startswith("m40 ")
    assert all(len(msg.text) <= 51 for msg in messages)


# Counts the reconnects within a 6 s window.
@pytest.mark.serial
def test_a_connection_that_keeps_dropping_is_retried_with_growing_delays(
    make_server: ServerFactory, make_feed: Feed
) -> None:
    backend = make_server({"JWT_SECRET": SECRET})
    feed = make_feed(backend.http, backoff_max_seconds=4.0)
    eventually(lambda: connected(feed), what="the feed to connect")
    admin = {"Authorization": f"Bearer {sign('ops', role='admin')}"}
    started, opened = time.monotonic(), feed.connections
    with httpx.Client(headers=admin, timeout=5) as http:
        # Every connection the feed opens is closed at once, for six seconds.
        while time.monotonic() - started < 6.0:
            for conn in http.get(backend.http + "/admin/connections").json()["connections"]:
                if conn["name"] == "dashboard":
                    http.post(f"{backend.http}/admin/connections/{conn['key']}/kick")
            time.sleep(0.05)
    # Delays of about 0.5, 1, 2 and 4 s: a handful of attempts, never a tight loop.
    assert 2 <= feed.connections - opened <= 5
    assert feed.snapshot().link.retry_at is not None or connected(feed)


def test_edits_and_deletes_change_the_feed_rows_and_the_resume_point(
    server: ServerProcess, make_feed: Feed
) -> None:
    feed = make_feed(server.http)
    eventually(lambda: connected(feed), what="the feed to follow lobby")
    author = JsonClient(server.ws, "name=typo&room=lobby&session=editor-session-0001")
    author.next_of("subscribed")
    for n, text in enumerate(["teh first", "second"]):
        author.send(type="publish", room="lobby", text=text, ref=f"e{n}")
    first, second = author.next_of("ack")["id"], author.next_of("ack")["id"]
    eventually(lambda: "second" in texts(feed), what="both messages")
    author.send(type="edit", room="lobby", id=first, text="the first", ref="e2")
    author.send(type="delete", room="lobby", id=second, ref="e3")
    eventually(lambda: texts(feed)[:2] == ["(deleted)", "the first"], what="the amendments")
    # Amendments are entries of the log: a resume starts after them, not before.
    assert feed.last_ids["lobby"] > second
