"""Two real instances behind one real Redis: every subscriber everywhere gets every message of a
room in one order, presence spans the instances, and a Redis outage is survived."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket

from tests.support.clients import JsonClient, connect
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually

# docs/cluster.md: heartbeat TTL 5 s + one 1 s sweep; the rest is slack for a loaded machine.
DEAD_INSTANCE_BOUND = 6.0
SLACK = 6.0

Cluster = tuple[ServerProcess, ServerProcess]


@pytest.fixture
def cluster(
    redis_server: RedisServer, make_server: ServerFactory, postgres: PostgresServer
) -> Cluster:
    # One shared database numbers every instance's messages; rate limits high enough for 200
    # messages in a burst from one client.
    env = {
        "BROKER_URL": redis_server.url,
        "DATABASE_URL": postgres.fresh_database(),
        "RATE_LIMIT_PER_SECOND": "10000",
        "RATE_LIMIT_BURST": "10000",
        # Clients left open at teardown need not hold the servers' shutdown for long.
        "CLOSE_TIMEOUT": "0.5",
    }
    return make_server(env), make_server(env)


def stats(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(server.http + "/stats", timeout=5)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def ready(server: ServerProcess) -> bool:
    return httpx.get(server.http + "/readyz", timeout=5).status_code == 200


def messages(client: JsonClient, n: int) -> list[dict[str, Any]]:
    return [client.next_of("message") for _ in range(n)]


def test_a_message_published_on_one_instance_reaches_subscribers_on_both(cluster: Cluster) -> None:
    a, b = cluster
    on_a, on_b = JsonClient(a.ws, "room=news"), JsonClient(b.ws, "room=news")
    on_a.next_of("subscribed"), on_b.next_of("subscribed")
    author = JsonClient(a.ws)
    author.send(type="publish", room="news", text="hello, cluster", ref="r1")
    ack = author.next_of("ack")
    for client in (on_a, on_b):
        message = client.next_of("message")
        assert (message["id"], message["text"], message["room"]) == (
            ack["id"],
            "hello, cluster",
            "news",
        )


def test_text_clients_on_different_instances_hear_each_other(cluster: Cluster) -> None:
    a, b = cluster
    on_a, on_b = connect(a.ws + "?room=plain"), connect(b.ws + "?room=plain")
    eventually(lambda: stats(a)["rooms"].get("plain", {}).get("connections") == 2, what="join")
    on_a.send("from a")
    assert on_b.recv() == "from a"
    on_b.send("from b")
    assert on_a.recv() == "from b"


def test_the_author_is_not_echoed_on_its_own_instance(cluster: Cluster) -> None:
    a, b = cluster
    author, other = JsonClient(a.ws, "room=echo"), JsonClient(b.ws, "room=echo")
    author.next_of("subscribed"), other.next_of("subscribed")
    author.send(type="publish", room="echo", text="mine", ref="m")
    author.next_of("ack")
    assert other.next_of("message")["text"] == "mine"
    other.send(type="publish", room="echo", text="theirs", ref="t")
    # The first message the author receives is the other's: its own was not sent back.
    assert author.next_of("message")["text"] == "theirs"


def test_two_publishers_on_two_instances_are_seen_in_one_order_everywhere(
    cluster: Cluster,
) -> None:
    a, b = cluster
    on_a, on_b = JsonClient(a.ws, "room=race"), JsonClient(b.ws, "room=race")
    on_a.next_of("subscribed"), on_b.next_of("subscribed")
    publishers = [connect(a.ws + "?format=json"), connect(b.ws + "?format=json")]
    start = threading.Barrier(2)

    def publish_200(ws: websocket.WebSocket, tag: str) -> None:
        start.wait()
        for i in range(200):
            ws.send(json.dumps({"type": "publish", "room": "race", "text": f"{tag}-{i}"}))

    threads = [
        threading.Thread(target=publish_200, args=(ws, tag))
        for ws, tag in zip(publishers, ("a", "b"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    seen_a = [(m["id"], m["text"]) for m in messages(on_a, 400)]
    seen_b = [(m["id"], m["text"]) for m in messages(on_b, 400)]
    assert seen_a == seen_b
    ids = [mid for mid, _ in seen_a]
    assert ids == sorted(ids) and len(set(ids)) == 400
    texts = {text for _, text in seen_a}
    assert texts == {f"{tag}-{i}" for tag in "ab" for i in range(200)}
    # Each publisher's own messages keep the order it sent them in.
    for tag in "ab":
        own = [int(text.split("-")[1]) for _, text in seen_a if text.startswith(tag)]
        assert own == list(range(200))


def test_presence_spans_instances_and_a_killed_instance_leaves_it(cluster: Cluster) -> None:
    a, b = cluster
    watcher = JsonClient(b.ws, "room=lounge&name=watcher")
    assert watcher.next_of("subscribed")["count"] == 1
    alice = JsonClient(a.ws, "room=lounge&name=alice")
    joined = alice.next_of("subscribed")
    assert (joined["count"], joined["members"]) == (2, ["watcher"])
    joined_event = watcher.next_of("presence")
    assert joined_event == {
        "type": "presence",
        "room": "lounge",
        "event": "join",
        "name": "alice",
        "id": alice.welcome["you"]["id"],
        "guest": True,
        "count": 2,
    }
    assert joined["roster"] == [watcher.welcome["you"]]
    late = JsonClient(b.ws, "room=lounge&name=late")
    assert sorted(late.next_of("subscribed")["members"]) == ["alice", "watcher"]
    eventually(
        lambda: (
            stats(b)["rooms"].get("lounge", {}).get("connections") == 3
            and stats(b)["connections"]["total"] == 3
        ),
        what="/stats on B to count A's client",
    )
    assert watcher.next_of("presence")["name"] == "late"
    late.close()
    assert (watcher.next_of("presence")["event"], watcher.buffer) == ("leave", [])

    a.kill()  # SIGKILL: no goodbye, only the heartbeat stops
    watcher.ws.settimeout(DEAD_INSTANCE_BOUND + SLACK)
    left = watcher.next_of("presence")
    assert (left["event"], left["name"], left["count"]) == ("leave", "alice", 1)
    eventually(
        lambda: (
            stats(b)["rooms"]["lounge"]["connections"] == 1
            and stats(b)["connections"]["total"] == 1
        ),
        timeout=DEAD_INSTANCE_BOUND + SLACK,
        what="/stats on B to forget the killed instance",
    )


def test_a_redis_outage_costs_no_publish_and_remote_delivery_catches_up(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    a, b = cluster
    on_a, on_b = JsonClient(a.ws, "room=storm"), JsonClient(b.ws, "room=storm")
    on_a.next_of("subscribed"), on_b.next_of("subscribed")
    author = JsonClient(b.ws)
    author.send(type="publish", room="storm", text="before", ref="1")
    before = author.next_of("ack")["id"]
    assert on_a.next_of("message")["text"] == on_b.next_of("message")["text"] == "before"

    redis_server.stop()
    eventually(lambda: not ready(a) and not ready(b), what="both instances to report not ready")
    # The database numbers and stores: Redis being down costs the author nothing, and the
    # author's own instance delivers at once.
    author.send(type="publish", room="storm", text="during", ref="2")
    during = author.next_of("ack")["id"]
    assert during == before + 1
    assert on_b.next_of("message")["id"] == during
    for server in (a, b):
        assert server.proc is not None and server.proc.poll() is None
        assert httpx.get(server.http + "/healthz", timeout=5).status_code == 200

    redis_server.restart()  # same port, and it forgot everything
    eventually(lambda: ready(a) and ready(b), timeout=15, what="both instances to be ready again")
    on_a.ws.settimeout(15)
    assert on_a.next_of("message")["id"] == during  # read from the database on resync
    author.send(type="publish", room="storm", text="after", ref="3")
    after = author.next_of("ack")["id"]
    assert after == during + 1
    for client in (on_a, on_b):
        message = client.next_of("message")
        assert (message["id"], message["text"]) == (after, "after")


def test_clients_leaving_a_room_at_once_are_all_forgotten(cluster: Cluster) -> None:
    a, _ = cluster
    clients = [JsonClient(a.ws, "room=crowd") for _ in range(6)]
    for client in clients:
        client.next_of("subscribed")
    for client in clients:
        client.close()

    def json_gauge() -> float:
        body = httpx.get(a.http + "/metrics", timeout=5).text
        line = next(
            x for x in body.splitlines() if x.startswith('desafio_connections{mode="json"}')
        )
        return float(line.split()[-1])

    eventually(lambda: json_gauge() == 0, what="every departure to be counted")
    eventually(lambda: "crowd" not in stats(a)["rooms"], what="the room to be forgotten")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_subscriber_recovers_on_one_instance_what_was_published_on_the_other(
    redis_server: RedisServer,
    make_server: ServerFactory,
    tmp_path: Path,
    database: str,
    request: pytest.FixtureRequest,
) -> None:
    # Two instances on one machine may share an SQLite file; in production, PostgreSQL.
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    else:
        url = request.getfixturevalue("postgres").fresh_database()
    env = {
        "BROKER_URL": redis_server.url,
        "DATABASE_URL": url,
        "RATE_LIMIT_PER_SECOND": "10000",
        "RATE_LIMIT_BURST": "10000",
        "CLOSE_TIMEOUT": "0.5",
    }
    a, b = make_server(env), make_server(env)
    reader = JsonClient(b.ws, "room=away")
    reader.next_of("subscribed")
    author = JsonClient(a.ws, "room=away")
    author.send(type="publish", room="away", text="before", ref="0")
    last_seen = reader.next_of("message")["id"]
    assert author.next_of("ack")["id"] == last_seen
    reader.close()
    for n in range(1, 51):
        author.send(type="publish", room="away", text=f"missed {n}", ref=str(n))
    acks = [author.next_of("ack")["id"] for _ in range(50)]

    back = JsonClient(b.ws)
    back.send(type="subscribe", room="away", since=last_seen)
    assert back.next_of("subscribed")["recovered"] is True
    replayed = messages(back, 50)
    assert [m["id"] for m in replayed] == acks == list(range(last_seen + 1, last_seen + 51))
    assert [m["text"] for m in replayed] == [f"missed {n}" for n in range(1, 51)]
    author.send(type="publish", room="away", text="live", ref="live")
    assert back.next_of("message")["id"] == last_seen + 51
