"""The feed's history: recent messages on first start, and every missed one after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from dashboard.feed import FeedClient
from dashboard.history import HttpHistory
from dashboard.store import LinkState
from tests.support.clients import publish_acked
from tests.support.server import ServerFactory, ServerProcess, free_port
from tests.support.waiting import eventually

Feed = Callable[..., FeedClient]
# A backlog published in one go must not trip the rate limit of the test's one author.
FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}


def oldest_first(feed: FeedClient, room: str) -> list[str]:
    return [m.text for m in reversed(feed.snapshot().messages) if m.room == room]


def ids_of(feed: FeedClient, room: str) -> list[int]:
    return [m.id for m in reversed(feed.snapshot().messages) if m.room == room]


def following(feed: FeedClient, room: str) -> bool:
    snap = feed.snapshot()
    return snap.link.state is LinkState.CONNECTED and room in snap.rooms


def test_http_history_reads_the_backends_answer(server: ServerProcess) -> None:
    publish_acked(server.ws, "shape", ["one", "two", "three"])
    with httpx.Client() as client:
        got = HttpHistory(client, server.http).latest("shape", 2)
        assert got is not None
        assert [m["text"] for m in got] == ["two", "three"]
        assert got[0]["id"] + 1 == got[1]["id"]
        assert HttpHistory(client, server.http).latest("never-used", 10) == []


def test_on_first_start_the_feed_shows_the_recent_history(
    server: ServerProcess, make_feed: Feed
) -> None:
    texts = [f"m{n}" for n in range(70)]
    publish_acked(server.ws, "recent", texts)
    feed = make_feed(server.http, default_room="recent", history_on_join=50)
    eventually(lambda: oldest_first(feed, "recent") == texts[20:], what="the latest 50")

    publish_acked(server.ws, "recent", ["live"])
    eventually(lambda: oldest_first(feed, "recent") == [*texts[20:], "live"], what="live after")
    ids = ids_of(feed, "recent")
    assert ids == list(range(ids[0], ids[0] + 51))


def away_while_published(
    make_server: ServerFactory,
    env: dict[str, str],
    backend: ServerProcess,
    feed: FeedClient,
    texts: list[str],
) -> ServerProcess:
    """Stop the backend; publish `texts` to the same database through an instance on another
    port, which the feed cannot reach; then bring the backend back on its own port."""
    backend.terminate()
    eventually(lambda: feed.snapshot().link.state is not LinkState.CONNECTED, what="the loss")
    elsewhere = make_server(env, port=free_port())
    publish_acked(elsewhere.ws, "lobby", texts)
    elsewhere.terminate()
    return make_server(env, port=backend.port)


def test_after_a_restart_the_feed_has_every_missed_message_in_order_once(
    make_server: ServerFactory, make_feed: Feed, tmp_path: Path
) -> None:
    env = {**FAST, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    backend = make_server(env)
    feed = make_feed(backend.http, backoff_max_seconds=1.0, history_on_join=50)
    eventually(lambda: following(feed, "lobby"), what="the feed to follow lobby")
    publish_acked(backend.ws, "lobby", ["before"])
    eventually(lambda: oldest_first(feed, "lobby") == ["before"], what="the first message")

    # More than a fresh join's history: only resuming after the last id seen finds them all.
    missed = [f"missed {n}" for n in range(80)]
    backend = away_while_published(make_server, env, backend, feed, missed)
    eventually(lambda: following(feed, "lobby"), timeout=20.0, what="the feed to reconnect")
    publish_acked(backend.ws, "lobby", ["after"])

    want = ["before", *missed, "after"]
    eventually(lambda: oldest_first(feed, "lobby") == want, what="every message, once, in order")
    ids = ids_of(feed, "lobby")
    assert ids == list(range(ids[0], ids[0] + len(want)))


def test_a_gap_too_big_to_replay_is_filled_from_stored_history(
    make_server: ServerFactory, make_feed: Feed, tmp_path: Path
) -> None:
    env = {**FAST, "MAX_REPLAY": "5", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    backend = make_server(env)
    feed = make_feed(backend.http, backoff_max_seconds=1.0, history_on_join=50)
    eventually(lambda: following(feed, "lobby"), what="the feed to follow lobby")
    publish_acked(backend.ws, "lobby", ["before"])
    eventually(lambda: oldest_first(feed, "lobby") == ["before"], what="the first message")

    missed = [f"missed {n}" for n in range(30)]
    away_while_published(make_server, env, backend, feed, missed)
    eventually(lambda: following(feed, "lobby"), timeout=20.0, what="the feed to reconnect")

    want = ["before", *missed]
    eventually(lambda: oldest_first(feed, "lobby") == want, what="the reloaded messages, once")
    # The page is told: the gap could not be replayed, the latest messages were reloaded.
    [(_, room, text)] = feed.snapshot().notices
    assert room == "lobby" and "too_far_behind" in text and "reloaded" in text


def test_after_a_restart_on_an_empty_database_new_messages_are_not_taken_for_old_ones(
    make_server: ServerFactory, make_feed: Feed
) -> None:
    backend = make_server()
    feed = make_feed(backend.http, backoff_max_seconds=1.0)
    eventually(lambda: following(feed, "lobby"), what="the feed to follow lobby")
    publish_acked(backend.ws, "lobby", ["old 1", "old 2"])
    eventually(lambda: oldest_first(feed, "lobby") == ["old 1", "old 2"], what="the old ones")

    backend.terminate()
    eventually(lambda: feed.snapshot().link.state is not LinkState.CONNECTED, what="the loss")
    # A fresh database: its ids start at 1 again, below the ones the feed has seen.
    fresh = make_server(port=backend.port)
    eventually(lambda: following(feed, "lobby"), timeout=20.0, what="the feed to reconnect")
    publish_acked(fresh.ws, "lobby", ["new 1"])
    eventually(lambda: oldest_first(feed, "lobby") == ["old 1", "old 2", "new 1"], what="new 1")
    # The feed resumed with the old log's epoch: the backend said it could not recover.
    assert [room for _, room, _ in feed.snapshot().notices] == ["lobby"]
