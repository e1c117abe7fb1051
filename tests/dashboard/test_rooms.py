"""Which rooms the feed joins and leaves, from what /stats lists."""

from __future__ import annotations

from dashboard.rooms import plan_rooms
from dashboard.stats import RoomFigures


def rooms(**connections: int) -> dict[str, RoomFigures]:
    return {name: RoomFigures(count, 0, None) for name, count in connections.items()}


def test_plan_joins_the_default_room_first_then_the_busiest() -> None:
    join, leave = plan_rooms(rooms(quiet=1, busy=5, mid=2), set(), "lobby", limit=32)
    assert (join, leave) == (["lobby", "busy", "mid", "quiet"], [])


def test_plan_never_follows_more_rooms_than_the_limit() -> None:
    listed = rooms(**{f"r{i:02}": 2 for i in range(40)})
    join, _ = plan_rooms(listed, {"lobby", "r00"}, "lobby", limit=32)
    assert len(join) == 30 and "r00" not in join


def test_plan_leaves_a_room_where_the_feed_is_alone_but_never_the_default() -> None:
    join, leave = plan_rooms(
        rooms(lobby=1, empty=1, full=3), {"lobby", "empty", "full"}, "lobby", 32
    )
    assert (join, leave) == ([], ["empty"])
