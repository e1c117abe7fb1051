"""Operations endpoints: health, readiness, Prometheus metrics, stats, the protocol schema."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import orjson
import pytest

from backend.protocol import CLIENT_TYPES, json_schema
from backend.routes import ops
from tests.support.clients import JsonClient, connect
from tests.support.server import ServerProcess


def test_health_and_readiness_answer_ok(server: ServerProcess) -> None:
    assert httpx.get(server.http + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.http + "/readyz").json() == {"status": "ready"}


def test_stats_count_connections_by_mode_and_room_and_messages(server: ServerProcess) -> None:
    text = connect(server.ws + "?room=stats-a")
    other = connect(server.ws + "?room=stats-a")
    js = JsonClient(server.ws, "room=stats-b")
    js.next_of("subscribed")
    text.send("one")
    assert other.recv() == "one"
    stats = httpx.get(server.http + "/stats").json()
    assert stats["connections"]["text"] >= 2 and stats["connections"]["json"] >= 1
    assert (
        stats["connections"]["total"] == stats["connections"]["text"] + stats["connections"]["json"]
    )
    assert stats["rooms"]["stats-a"]["connections"] == 2
    assert stats["rooms"]["stats-a"]["messages"] == 1
    assert stats["rooms"]["stats-a"]["last_message_at"].endswith("Z")
    assert stats["rooms"]["stats-b"] == {"connections": 1, "messages": 0, "last_message_at": None}
    assert stats["uptime_seconds"] > 0


def test_metrics_expose_websocket_traffic_in_prometheus_text(server: ServerProcess) -> None:
    a, b = connect(server.ws + "?room=metrics"), connect(server.ws + "?room=metrics")
    a.send("counted")
    assert b.recv() == "counted"
    response = httpx.get(server.http + "/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    for name in (
        'desafio_connections{mode="text"}',
        "desafio_rooms ",
        'desafio_messages_in_total{mode="text"}',
        "desafio_deliveries_total",
        "desafio_slow_consumer_disconnects_total",
        "desafio_fanout_seconds_bucket",
    ):
        assert name in body, name


def test_protocol_schema_is_generated_from_the_models(server: ServerProcess) -> None:
    schema = httpx.get(server.http + "/protocol/schema.json").json()
    client_types = set(schema["client"]["discriminator"]["mapping"])
    server_types = set(schema["server"]["discriminator"]["mapping"])
    assert client_types == set(CLIENT_TYPES)
    assert {"subscribe", "unsubscribe", "publish", "edit", "delete", "typing", "ping", "auth"} == (
        client_types
    )
    assert {"message", "ack", "subscribed", "presence", "error", "pong"} <= server_types


def test_the_protocol_schema_is_built_once_per_process_not_per_request() -> None:
    # ~13 ms of the event loop each time, and anyone may ask 50 times a second.
    assert ops._schema() is ops._schema()
    assert orjson.loads(ops._schema()) == json_schema()


def test_a_costly_stats_build_is_reused_and_a_cheap_one_never(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With tens of thousands of rooms one build took ~85 ms of the event loop; ten requests a
    # second held the loop most of the time. (A real hub that size takes a minute to build.)
    builds: list[float] = []
    cost = [0.0]

    def build(hub: object) -> dict[str, int]:
        time.sleep(cost[0])
        builds.append(cost[0])
        return {"rooms": len(builds)}

    monkeypatch.setattr(ops, "snapshot", build)
    hub = SimpleNamespace(cluster=None)
    costly = ops._CostlyStats()
    answers = [costly.get(hub) for _ in range(5)]  # type: ignore[arg-type]
    assert len(builds) == 5 and answers[-1] == b'{"rooms":5}'  # cheap: always fresh
    cost[0] = 0.03
    answers = [costly.get(hub) for _ in range(5)]  # type: ignore[arg-type]
    assert len(builds) == 6 and set(answers) == {b'{"rooms":6}'}
    time.sleep(0.03 / ops.STATS_LOOP_SHARE + 0.05)  # its share of the loop is spent
    assert costly.get(hub) == b'{"rooms":7}'  # type: ignore[arg-type]
