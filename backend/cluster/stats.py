"""Cluster-wide /stats: every live instance's snapshot, summed or maxed as each figure needs."""

from __future__ import annotations

from typing import Any

from backend.rate import Rate


class PublishCounter(Rate):
    """Messages this instance published. Summed over instances these count each message once,
    whereas every subscribed instance sees (and would count) each message it fans out."""


def merge(local: dict[str, Any], others: list[dict[str, Any]]) -> dict[str, Any]:
    """One /stats for the cluster, shaped like an instance's.

    Connections (total, by mode, per room) and published messages are summed. A room's
    `messages` and `last_message_at` are the largest any instance saw: every instance subscribed
    to a room fans out all of its messages, so summing would count them once per instance.
    """
    snapshots = [local, *others]
    connections = {
        mode: sum(int(s["connections"].get(mode, 0)) for s in snapshots)
        for mode in local["connections"]
    }
    rooms: dict[str, dict[str, Any]] = {}
    for snapshot in snapshots:
        for room, figures in snapshot["rooms"].items():
            merged = rooms.get(room)
            if merged is None:
                rooms[room] = dict(figures)
                continue
            merged["connections"] += figures["connections"]
            merged["messages"] = max(merged["messages"], figures["messages"])
            # ISO-8601 UTC strings of one format order like the instants they name.
            stamps = [t for t in (merged["last_message_at"], figures["last_message_at"]) if t]
            merged["last_message_at"] = max(stamps, default=None)
    return {
        **{k: v for k, v in local.items() if not k.startswith("published_")},
        "connections": connections,
        "messages_total": sum(int(s.get("published_total", 0)) for s in snapshots),
        "messages_per_second": round(
            sum(float(s.get("published_per_second", 0.0)) for s in snapshots), 3
        ),
        "rooms": dict(sorted(rooms.items())),
        "instances": sorted(str(s["instance"]) for s in snapshots),
    }
