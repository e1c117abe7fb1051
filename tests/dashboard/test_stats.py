"""/stats parsed into samples, and per-room rates from the change between samples."""

from __future__ import annotations

import httpx

from dashboard.stats import RoomRates, StatsSample, fetch_stats, parse_stats
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess


def sample(at: float, instance: str = "a", **messages: int) -> StatsSample:
    body = {
        "instance": instance,
        "connections": {"total": 3, "text": 1, "json": 2},
        "messages_total": sum(messages.values()),
        "messages_per_second": 1.5,
        "rooms": {
            room: {"connections": 1, "messages": n, "last_message_at": None}
            for room, n in messages.items()
        },
    }
    return parse_stats(body, at)


def test_fetch_stats_reads_the_real_backend(server: ServerProcess) -> None:
    member = JsonClient(server.ws, "name=stats&room=measured")
    try:
        member.next_of("subscribed")
        with httpx.Client() as client:
            got = fetch_stats(client, server.http, at=1.0)
    finally:
        member.close()
    assert got.rooms["measured"].connections == 1
    assert got.json_connections >= 1 and got.connections >= got.json_connections


def test_room_rates_are_the_change_in_messages_over_the_window() -> None:
    rates = RoomRates(window=10)
    rates.add(sample(100.0, lobby=10, ops=0))
    assert rates.add(sample(102.0, lobby=30, ops=4)) == {"lobby": 10.0, "ops": 2.0}


def test_room_rates_start_over_when_the_backend_instance_changes() -> None:
    rates = RoomRates()
    rates.add(sample(100.0, "old", lobby=500))
    assert rates.add(sample(101.0, "new", lobby=3)) == {"lobby": 0.0}
    assert rates.add(sample(102.0, "new", lobby=5)) == {"lobby": 2.0}


def test_room_rates_keep_only_the_window() -> None:
    rates = RoomRates(window=2)
    for second in range(10):
        result = rates.add(sample(float(second), lobby=second * second))
    assert result == {"lobby": (81 - 49) / 2}
