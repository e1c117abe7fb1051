"""Which rooms the feed follows: the default room, then the busiest rooms /stats lists."""

from __future__ import annotations

from collections.abc import Mapping, Set

from dashboard.stats import RoomFigures


def plan_rooms(
    listed: Mapping[str, RoomFigures], followed: Set[str], default_room: str, limit: int
) -> tuple[list[str], list[str]]:
    """What to subscribe to and what to leave, given /stats and the rooms followed now.

    A followed room whose only member is the feed itself is left: otherwise the dashboard alone
    would keep every room that ever existed alive on the backend, and reach the room limit.
    """
    leave = sorted(
        room
        for room in followed
        if room != default_room and room in listed and listed[room].connections <= 1
    )
    keep = [room for room in followed if room not in leave]
    candidates = sorted(
        (room for room in listed if room not in followed),
        key=lambda room: (-listed[room].connections, room),
    )
    if default_room not in followed:
        candidates.insert(0, default_room)
    room_left = max(0, limit - len(keep))
    return candidates[:room_left], leave
