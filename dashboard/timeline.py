"""Bounded history for the charts: 5 minutes at full rate, 1 hour and 24 hours downsampled.

Each range keeps at most a few hundred points, whatever the uptime: memory stays flat. Samples
that did not come (the backend down, /stats unanswered) are not invented: a hole between two
points longer than GAP_FACTOR steps is an outage, which the charts draw as a gap with a label.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Figures where the worst of a bucket matters more than its mean.
WORST_HIGH = ("p50", "p95", "p99", "queue", "backlog", "queued", "failures", "slow")
WORST_LOW = ("redis up",)
GAP_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class Point:
    """One moment: named figures, and the busiest rooms' (rate, members)."""

    at: float
    values: Mapping[str, float | None]
    rooms: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    instance: str = ""


@dataclass(frozen=True, slots=True)
class Range:
    label: str
    seconds: float
    step: float  # seconds per point


RANGES = (Range("5 min", 300, 1.0), Range("1 h", 3600, 10.0), Range("24 h", 86400, 240.0))


@dataclass(frozen=True, slots=True)
class Gap:
    """No figures from `start` to `end` (wall clock); `ongoing` when it lasts until now."""

    start: float
    end: float
    ongoing: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _combine(key: str, values: list[float]) -> float:
    if any(word in key for word in WORST_LOW):
        return min(values)
    if any(word in key for word in WORST_HIGH):
        return max(values)
    return sum(values) / len(values)


def merge(points: Sequence[Point]) -> Point:
    """Several points as one, at the last one's time: means, or the worst where it matters."""
    keys = {key for p in points for key in p.values}
    values: dict[str, float | None] = {}
    for key in keys:
        found = [v for p in points if (v := p.values.get(key)) is not None]
        values[key] = _combine(key, found) if found else None
    rooms: dict[str, tuple[float, int]] = {}
    for room in {room for p in points for room in p.rooms}:
        seen = [p.rooms[room] for p in points if room in p.rooms]
        rooms[room] = (sum(r for r, _ in seen) / len(seen), max(m for _, m in seen))
    return Point(points[-1].at, values, rooms, points[-1].instance)


class Timeline:
    """Points per range: the first range raw, the others one merged point per step."""

    def __init__(self, poll_seconds: float = 1.0, ranges: Iterable[Range] = RANGES) -> None:
        self.poll_seconds = poll_seconds
        self.ranges = tuple(ranges)
        self._points = {r.label: deque[Point](maxlen=self._size(r)) for r in self.ranges}
        self._pending: dict[str, list[Point]] = {r.label: [] for r in self.ranges}

    def _size(self, r: Range) -> int:
        return int(r.seconds / max(r.step, self.poll_seconds)) + 2

    def step(self, label: str) -> float:
        r = next(r for r in self.ranges if r.label == label)
        return max(r.step, self.poll_seconds)

    def add(self, point: Point) -> None:
        for r in self.ranges:
            step = max(r.step, self.poll_seconds)
            pending = self._pending[r.label]
            if pending and int(pending[0].at // step) != int(point.at // step):
                self._points[r.label].append(merge(pending))
                pending.clear()
            pending.append(point)
            if step <= self.poll_seconds:
                self._points[r.label].append(merge(pending))
                pending.clear()

    def points(self, label: str, now: float) -> list[Point]:
        """The range's points within its window, oldest first (the open bucket included)."""
        r = next(r for r in self.ranges if r.label == label)
        pending = self._pending[label]
        found = list(self._points[label]) + ([merge(pending)] if pending else [])
        return [p for p in found if p.at >= now - r.seconds]


def gaps(points: Sequence[Point], step: float, now: float, window: float) -> list[Gap]:
    """Where figures are missing: between points, before the first (within the window, once
    there were points before) and from the last one until now."""
    limit = GAP_FACTOR * step
    found = [Gap(a.at, b.at) for a, b in itertools.pairwise(points) if b.at - a.at > limit]
    if points and now - points[-1].at > limit:
        found.append(Gap(points[-1].at, now, ongoing=True))
    return [g for g in found if g.end >= now - window]
