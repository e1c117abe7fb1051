"""Is a user connected anywhere? Locally from the auth identities; across a cluster via Redis.

Cluster presence (backend/cluster) keys members by connection and room, not by user, so push
keeps a small record of its own: a sorted set of usernames scored by "online until" (Unix time).
Each instance refreshes its authenticated users every BEAT_SECONDS with a deadline GRACE_SECONDS
ahead. So a user connected on another instance counts as online from at most BEAT_SECONDS after
connecting until at most GRACE_SECONDS after leaving; clocks are assumed NTP-synchronized.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backend.auth.rooms import Identity
from backend.cluster.keys import PREFIX

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("desafio.push")

ONLINE = PREFIX + "push:online"
BEAT_SECONDS = 2.0
GRACE_SECONDS = 6.0


class Online:
    def __init__(self, identities: Mapping[str, Identity], redis_url: str | None) -> None:
        # AuthService.identities: connection key -> identity, for this instance's connections.
        self.identities = identities
        self._redis: Redis | None = None
        if redis_url:
            # Imported only for redis:// URLs, like the Redis broker itself.
            from redis.asyncio import Redis

            self._redis = Redis.from_url(redis_url, decode_responses=True)
        self._beating: asyncio.Task[None] | None = None
        self._healthy = True

    def local(self) -> set[str]:
        """Authenticated users connected here. A guest who typed a name is not that user."""
        return {i.name for i in self.identities.values() if i.authenticated}

    async def anywhere(self, username: str) -> bool:
        if username in self.local():
            return True
        if self._redis is None:
            return False
        try:
            until = await self._redis.zscore(ONLINE, username)
        except _redis_errors() as exc:
            # Unknown: a push to someone who is online costs less than a missed one.
            self._trouble(exc)
            return False
        return until is not None and until >= time.time()

    async def start(self) -> None:
        if self._redis is not None:
            self._beating = asyncio.get_running_loop().create_task(self._beat(), name="push-online")

    async def stop(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
        if self._redis is not None:
            await self._redis.aclose()

    async def _beat(self) -> None:
        assert self._redis is not None
        while True:
            names = self.local()
            now = time.time()
            try:
                if names:
                    # GT: never shorten a deadline another instance set further ahead.
                    deadline = now + GRACE_SECONDS
                    await self._redis.zadd(ONLINE, dict.fromkeys(names, deadline), gt=True)
                # Anyone's stale entries: the set stays the size of who is online.
                await self._redis.zremrangebyscore(ONLINE, "-inf", now)
                self._healthy = True
            except _redis_errors() as exc:
                self._trouble(exc)
            await asyncio.sleep(BEAT_SECONDS)

    def _trouble(self, exc: Exception) -> None:
        if self._healthy:
            log.warning("push presence: Redis unavailable (%s); treating users as offline", exc)
        self._healthy = False


def _redis_errors() -> type[Exception]:
    from redis.exceptions import RedisError

    return RedisError
