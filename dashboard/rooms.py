"""Which rooms the feed follows: the default room, then the busiest rooms /stats lists."""

from __future__ import annotations

import time
from collections.abc import Mapping, Set
from datetime import datetime

from dashboard.stats import RoomFigures

# A room with no member but the feed stays followed while it had a message this recently:
# rooms only publishers use (a bot's announcements) are worth watching too.
RECENT_SECONDS = 300.0


def _recent(figures: RoomFigures, now: float) -> bool:
    if not figures.last_message_at:
        return False
    try:
        at = datetime.fromisoformat(figures.last_message_at).timestamp()
    except ValueError:
        return False
    return now - at < RECENT_SECONDS


def plan_rooms(
    listed: Mapping[str, RoomFigures],
    followed: Set[str],
    default_room: str,
    limit: int,
    own: int = 1,
    now: float | None = None,
) -> tuple[list[str], list[str]]:
    """What to subscribe to and what to leave, given /stats and the rooms followed now.

    `own` is how many of a room's counted members are the feed itself (1, or 0 when it
    observes unseen). A followed room with nobody else and no recent message is left: otherwise
    the dashboard alone would keep every room that ever existed alive on the backend, and reach
    the room limit.
    """
    now = time.time() if now is None else now

    def idle(room: str, mine: int) -> bool:
        figures = listed[room]
        return figures.connections <= mine and not _recent(figures, now)

    leave = sorted(
        room for room in followed if room != default_room and room in listed and idle(room, own)
    )
    keep = [room for room in followed if room not in leave]
    candidates = sorted(
        (room for room in listed if room not in followed and not idle(room, 0)),
        key=lambda room: (-listed[room].connections, room),
    )
    if default_room not in followed:
        candidates.insert(0, default_room)
    room_left = max(0, limit - len(keep))
    return candidates[:room_left], leave
