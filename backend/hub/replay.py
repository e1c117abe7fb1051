"""Catching a subscriber up: history on join, or every message after `since`, then live."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from backend.broker import Broker, BrokerUnavailable, Envelope
from backend.hub.connection import Connection, Mode
from backend.hub.outbound import Outgoing
from backend.storage import Store, Window


def hold(conn: Connection, room: str) -> None:
    """From now on, live messages of `room` wait for `release` instead of going out."""
    if conn.held is None:
        conn.held = {}
    conn.held[room] = []


async def fetch(
    store: Store, broker: Broker, room: str, since: int | None, history: int, max_replay: int
) -> tuple[list[Envelope], bool | None]:
    """What to replay, and (with `since`) whether it is everything the client missed.

    The broker's recent messages come first when they reach back far enough (a Redis stream
    holds every instance's latest, committed or not); the database covers the rest.
    """
    if since is not None:
        streamed = await _recent(broker, room, since, max_replay + 1)
        if streamed and streamed[0].id == since + 1:
            return (streamed, True) if len(streamed) <= max_replay else ([], False)
    # Messages published here before the subscriber joined may still be on their way to the
    # database; waiting for them closes the window a gap could fall through.
    await store.flush()
    if since is None:
        if history <= 0:
            return [], None
        stored = await store.read(room, Window(limit=history))
        return _extend(stored, await _recent(broker, room, _last(stored), history))[-history:], None
    missed = await store.read(room, Window(limit=max_replay + 1, after=since))
    if len(missed) > max_replay:
        return [], False
    if missed:
        missed = _extend(missed, await _recent(broker, room, _last(missed), max_replay))
        return missed, missed[0].id == since + 1
    bounds = await store.bounds(room)
    # Nothing after `since`: fine if the client is at the newest stored message (or the room
    # never had one and it asks from 0); anything else means its ids are from another history.
    newest = bounds[1] if bounds else 0
    return [], since == newest


async def _recent(broker: Broker, room: str, after: int, limit: int) -> list[Envelope]:
    try:
        return await broker.recent(room, after, limit)
    except BrokerUnavailable:
        return []  # the database alone, then; the held live messages follow either way


def _last(envelopes: list[Envelope]) -> int:
    return envelopes[-1].id if envelopes else 0


def _extend(first: list[Envelope], more: list[Envelope]) -> list[Envelope]:
    last = _last(first)
    return first + [e for e in more if e.id > last]


def release(conn: Connection, room: str, replayed: list[Envelope]) -> None:
    """Send the replay, then what arrived live meanwhile (minus what the replay covered)."""
    held = conn.held.pop(room, []) if conn.held is not None else []
    if conn.held == {}:
        conn.held = None
    last = replayed[-1].id if replayed else 0
    for envelope in _chain(replayed, (e for e in held if e.id > last)):
        if conn.mode is Mode.TEXT:
            conn.deliver(Outgoing(envelope.text.encode()))
        else:
            conn.deliver(Outgoing(orjson.dumps(envelope.as_message())))


def _chain(*parts: Iterable[Envelope]) -> Iterable[Envelope]:
    for part in parts:
        yield from part
