"""Operations endpoints: health, readiness, Prometheus metrics, stats, the protocol schema."""

from __future__ import annotations

import httpx
import orjson

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
