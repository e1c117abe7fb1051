"""Every Redis key the cluster uses, in one place.

Per-room keys carry the room in a hash tag (`{room}`) so that a room's sequence counter and
stream land on one slot, should the deployment ever move to Redis Cluster.
"""

from __future__ import annotations

PREFIX = "desafio:"

# Set of instance ids that have announced themselves (live or not yet reaped).
INSTANCES = PREFIX + "instances"
# One stream of join/leave events for all rooms; every instance reads it.
PRESENCE = PREFIX + "presence"


def seq(room: str) -> str:
    """The room's last assigned message id."""
    return f"{PREFIX}{{{room}}}:seq"


def stream(room: str) -> str:
    """The room's messages in id order (trimmed to about STREAM_MAXLEN entries)."""
    return f"{PREFIX}{{{room}}}:stream"


def members(room: str) -> str:
    """Hash of the room's members cluster-wide: `instance:connection` -> display name."""
    return f"{PREFIX}{{{room}}}:members"


def instance_rooms(instance: str) -> str:
    """Set of rooms where `instance` has (or had) members: what to clean when it dies."""
    return f"{PREFIX}instance:{instance}:rooms"


def heartbeat(instance: str) -> str:
    """The instance's /stats snapshot, with a TTL: while it exists the instance is alive."""
    return f"{PREFIX}instance:{instance}:alive"


def wake(instance: str) -> str:
    """A tiny stream the instance itself writes to, to wake its blocked reader."""
    return f"{PREFIX}instance:{instance}:wake"
