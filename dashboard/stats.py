"""The backend's /stats as typed samples, and the figures derived from a few of them."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class RoomFigures:
    """One room as /stats reports it."""

    connections: int
    messages: int
    last_message_at: str | None


@dataclass(frozen=True, slots=True)
class StatsSample:
    """One /stats answer and when (wall clock, seconds) it was taken."""

    at: float
    instance: str
    connections: int
    text_connections: int
    json_connections: int
    messages_total: int
    messages_per_second: float
    rooms: Mapping[str, RoomFigures] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """What the charts plot per sample; small, so minutes of them cost little."""

    at: float
    messages_per_second: float
    connections: int
    text_connections: int
    json_connections: int


def parse_stats(payload: Mapping[str, Any], at: float) -> StatsSample:
    """A /stats JSON body as a sample; raises KeyError/TypeError/ValueError if it is not one."""
    conns = payload["connections"]
    rooms = {
        str(name): RoomFigures(
            connections=int(room["connections"]),
            messages=int(room["messages"]),
            last_message_at=room.get("last_message_at"),
        )
        for name, room in payload["rooms"].items()
    }
    return StatsSample(
        at=at,
        instance=str(payload["instance"]),
        connections=int(conns["total"]),
        text_connections=int(conns.get("text", 0)),
        json_connections=int(conns.get("json", 0)),
        messages_total=int(payload["messages_total"]),
        messages_per_second=float(payload["messages_per_second"]),
        rooms=rooms,
    )


def fetch_stats(client: httpx.Client, backend_url: str, at: float) -> StatsSample:
    """GET /stats; raises httpx.HTTPError when the backend does not answer well."""
    response = client.get(backend_url + "/stats")
    response.raise_for_status()
    return parse_stats(response.json(), at)


def point_of(sample: StatsSample) -> SeriesPoint:
    return SeriesPoint(
        at=sample.at,
        messages_per_second=sample.messages_per_second,
        connections=sample.connections,
        text_connections=sample.text_connections,
        json_connections=sample.json_connections,
    )


class RoomRates:
    """Messages per second per room, from the change in each room's count over a short window.

    /stats only gives per-room totals, so the rate is a difference of two samples. Only the
    counts of the last `window` samples are kept: the memory does not grow with time.
    """

    def __init__(self, window: int = 10) -> None:
        self._counts: deque[tuple[float, str, dict[str, int]]] = deque(maxlen=window + 1)

    def add(self, sample: StatsSample) -> dict[str, float]:
        """Record a sample; returns the rate of every room it lists."""
        counts = {room: figures.messages for room, figures in sample.rooms.items()}
        if self._counts and self._counts[-1][1] != sample.instance:
            # A restarted backend counts from zero again: older samples would give negative rates.
            self._counts.clear()
        self._counts.append((sample.at, sample.instance, counts))
        oldest_at, _, oldest = self._counts[0]
        span = sample.at - oldest_at
        if span <= 0:
            return {room: 0.0 for room in counts}
        return {room: max(0, count - oldest.get(room, 0)) / span for room, count in counts.items()}
