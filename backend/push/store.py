"""Push subscriptions and follows in the project's database (tables of migration 0003)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.protocol import utc_timestamp
from backend.storage.engine import acquire, release
from backend.storage.schema import push_follows, push_subscriptions


class EndpointTaken(Exception):
    """The endpoint is another user's subscription: posting it must not move it."""


class TooManySubscriptions(Exception):
    """The user has PUSH_MAX_SUBSCRIPTIONS_PER_USER browsers subscribed already."""


class TooManyFollows(Exception):
    """The user follows PUSH_MAX_FOLLOWS_PER_USER rooms already."""


@dataclass(frozen=True)
class Subscription:
    """What a browser's PushManager.subscribe() answered, and whose it is."""

    username: str
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        """pywebpush's `subscription_info`."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class PushStore:
    """Push subscriptions and follows, on the engine DATABASE_URL's other stores share."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None

    async def start(self) -> None:
        self.engine = await acquire(self.url)  # shared: backend/storage/engine.py

    async def stop(self) -> None:
        if self.engine is not None:
            self.engine = None
            await release(self.url)

    def _engine(self) -> AsyncEngine:
        assert self.engine is not None, "PushStore used before start()"
        return self.engine

    async def subscribe(self, sub: Subscription, limit: int) -> None:
        """Store (or refresh the keys of) one's own subscription; EndpointTaken when another
        user registered the endpoint, TooManySubscriptions past `limit` per user."""
        table = push_subscriptions
        async with self._engine().begin() as conn:
            # An endpoint is a capability its browser handed to one user: knowing someone
            # else's must not let a caller take it over (and then delete it).
            owner = select(table.c.username).where(table.c.endpoint == sub.endpoint)
            found = (await conn.execute(owner)).scalar_one_or_none()
            if found is not None and found != sub.username:
                raise EndpointTaken(sub.endpoint)
            await conn.execute(delete(table).where(table.c.endpoint == sub.endpoint))
            held = select(func.count()).select_from(table).where(table.c.username == sub.username)
            if (await conn.execute(held)).scalar_one() >= limit:
                raise TooManySubscriptions(sub.username)
            row = {
                "endpoint": sub.endpoint,
                "username": sub.username,
                "p256dh": sub.p256dh,
                "auth": sub.auth,
                "created_at": utc_timestamp(),
            }
            await conn.execute(table.insert(), row)

    async def unsubscribe(self, username: str, endpoint: str) -> bool:
        """Remove one of the user's subscriptions; False when it is not theirs or not there."""
        table = push_subscriptions
        query = delete(table).where(table.c.endpoint == endpoint, table.c.username == username)
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def forget(self, endpoint: str) -> None:
        """The push service said the subscription is gone (404/410)."""
        table = push_subscriptions
        async with self._engine().begin() as conn:
            await conn.execute(delete(table).where(table.c.endpoint == endpoint))

    async def subscriptions(self, username: str) -> list[Subscription]:
        table = push_subscriptions
        query = select(table).where(table.c.username == username).order_by(table.c.endpoint)
        async with self._engine().connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Subscription(r.username, r.endpoint, r.p256dh, r.auth)
            for r in (x._mapping for x in rows)
        ]

    async def follow(self, username: str, room: str, limit: int) -> None:
        """Follow `room` (again: idempotent, counted once); TooManyFollows past `limit`."""
        table = push_follows
        row = {"username": username, "room": room, "created_at": utc_timestamp()}
        mine = (table.c.username == username) & (table.c.room == room)
        held = select(func.count()).select_from(table).where(table.c.username == username)
        # Delete-then-insert: an idempotent PUT on SQLite and PostgreSQL alike; a concurrent PUT
        # of the same follow may win the insert, and the follow is stored either way. The delete
        # comes first so that re-following is not counted against the cap, and (on SQLite) so
        # that this transaction holds the write lock before it counts: concurrent PUTs are then
        # serialized and the cap is exact. On PostgreSQL (READ COMMITTED) PUTs in flight at the
        # same moment may each see room for one more, as with subscriptions: a bounded overshoot.
        with contextlib.suppress(IntegrityError):
            async with self._engine().begin() as conn:
                await conn.execute(delete(table).where(mine))
                if (await conn.execute(held)).scalar_one() >= limit:
                    raise TooManyFollows(username)
                await conn.execute(table.insert(), row)

    async def unfollow(self, username: str, room: str) -> bool:
        table = push_follows
        query = delete(table).where(table.c.username == username, table.c.room == room)
        async with self._engine().begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def following(self, username: str) -> list[str]:
        table = push_follows
        query = select(table.c.room).where(table.c.username == username).order_by(table.c.room)
        async with self._engine().connect() as conn:
            return [str(room) for room in (await conn.execute(query)).scalars()]

    async def followers(self) -> dict[str, set[str]]:
        """Every follow, room -> usernames: the notifier's cache, re-read periodically."""
        table = push_follows
        async with self._engine().connect() as conn:
            rows = (await conn.execute(select(table.c.room, table.c.username))).all()
        found: defaultdict[str, set[str]] = defaultdict(set)
        for room, username in rows:
            found[str(room)].add(str(username))
        return dict(found)
