"""From published messages to pushes: who follows the room, who is offline, who is under cap.

`published` runs in the publishing path (once per message, on the instance that sequenced it,
when it is stored): it only filters by a cached set of followed rooms and enqueues, never awaits
and never blocks. A worker drains the queue; each push is its own task, bounded in number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

import orjson

from backend.auth.rooms import Identity
from backend.auth.service import AuthService
from backend.auth.users import SERVICE, User
from backend.broker import Envelope
from backend.config import Settings
from backend.identity import GUEST_PREFIX, service
from backend.identity import user as user_sender
from backend.push.metrics import PushMetrics
from backend.push.online import Online
from backend.push.sender import Sender
from backend.push.store import PushStore

log = logging.getLogger("desafio.push")

PREVIEW_CHARS = 120
# Follows set on another instance reach this one's cache within this many seconds.
FOLLOWS_REFRESH_SECONDS = 5.0


def payload(envelope: Envelope, preview: bool) -> bytes:
    """What the service worker gets: enough to show a notification and open the room.

    `guest` and `sender_id` as on the socket (docs/protocol.md): display names are not unique
    and a guest picks its own, so the name alone must not pass for who wrote."""
    body: dict[str, object] = {
        "room": envelope.room,
        "id": envelope.id,
        "sender": envelope.sender,
        "sender_id": envelope.sender_id,
        "guest": envelope.sender_id.startswith(GUEST_PREFIX),
    }
    if preview:
        text = envelope.text
        body["text"] = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    return orjson.dumps(body)


class RateCap:
    """At most `limit` pushes per user in any 60-second window."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._sent: dict[str, deque[float]] = {}

    def allow(self, username: str) -> bool:
        now = time.monotonic()
        recent = self._sent.setdefault(username, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True

    def prune(self) -> None:
        """Forget users with nothing in the window, so the map does not grow forever."""
        cutoff = time.monotonic() - self.window
        for name in [n for n, sent in self._sent.items() if not sent or sent[-1] <= cutoff]:
            del self._sent[name]


class Notifier:
    def __init__(
        self,
        settings: Settings,
        auth: AuthService,
        store: PushStore,
        sender: Sender,
        online: Online,
        metrics: PushMetrics,
    ) -> None:
        self.auth = auth
        self.store = store
        self.sender = sender
        self.online = online
        self.metrics = metrics
        self.preview = settings.push_preview
        self.cap = RateCap(settings.push_per_user_per_minute)
        self.max_pending = settings.push_queue_size
        self.followers: dict[str, set[str]] = {}
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue(settings.push_queue_size)
        self._pending: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        # Local follow changes made while a refresh reads (None otherwise), replayed onto what
        # it read: discarding a read that overlapped a change starved it under steady changes.
        self._changes: list[tuple[str, str, bool]] | None = None

    async def start(self) -> None:
        self.followers = await self.store.followers()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._work(), name="push-worker"),
            loop.create_task(self._refresh(), name="push-follows"),
        ]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        for task in [*self._tasks, *self._pending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def followed(self, username: str, room: str, following: bool) -> None:
        """A follow changed here: the cache knows at once (other instances within the refresh)."""
        if self._changes is not None:
            self._changes.append((username, room, following))
        self._apply(self.followers, username, room, following)

    @staticmethod
    def _apply(followers: dict[str, set[str]], username: str, room: str, following: bool) -> None:
        """Unfollows create nothing and drop emptied sets: anyone may DELETE any room name."""
        if following:
            followers.setdefault(room, set()).add(username)
        elif (names := followers.get(room)) is not None:
            names.discard(username)
            if not names:
                del followers[room]

    def published(self, envelope: Envelope) -> None:
        """A message was stored. Called in the publishing path: must not block or raise."""
        if not self.followers.get(envelope.room):
            return
        try:
            self._queue.put_nowait(envelope)
        except asyncio.QueueFull:
            self.metrics.dropped.labels("queue_full").inc()
            return
        self.metrics.queued.set(self._queue.qsize())

    async def _work(self) -> None:
        while True:
            envelope = await self._queue.get()
            self.metrics.queued.set(self._queue.qsize())
            for username in sorted(self.followers.get(envelope.room, ())):
                if len(self._pending) >= self.max_pending:
                    self.metrics.dropped.labels("backlog").inc()
                    continue
                task = asyncio.get_running_loop().create_task(self._notify(username, envelope))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def _notify(self, username: str, envelope: Envelope) -> None:
        try:
            user = await self.auth.users.get(username) if self.auth.users.available else None
            if envelope.sender_id == _sender_id(username, user):
                return  # one's own message needs no notification (by id: names are not unique)
            if await self.online.anywhere(username):
                self.metrics.skipped_online.inc()
                return
            if not self._may_receive(username, user, envelope.room):
                return
            subscriptions = await self.store.subscriptions(username)
            if not subscriptions:
                return
            if not self.cap.allow(username):
                self.metrics.dropped.labels("rate_capped").inc()
                return
            body = payload(envelope, self.preview)
            await asyncio.gather(
                *(self.sender.deliver(sub, body, envelope.room) for sub in subscriptions)
            )
        except Exception:  # one user's failure (a database hiccup) must not stop the others
            log.exception("push for a message in room %s failed", envelope.room)

    def _may_receive(self, username: str, user: User | None, room: str) -> bool:
        """The one send-time check, for every room: the follow was allowed once, but the account
        may since have been disabled (its tokens are refused, so must its pushes be) or lost a
        private room. A deleted account's subscriptions went with it (UserStore.delete). No row
        at all is a name without an account here (a service token's), judged by the room alone."""
        if user is not None and user.disabled:
            return False
        if not self.auth.policy.is_private(room):
            return True
        identity = Identity(username, authenticated=True, role=user.role if user else None)
        return self.auth.may_enter(identity, room)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(FOLLOWS_REFRESH_SECONDS)
            self.cap.prune()
            changes: list[tuple[str, str, bool]] = []
            self._changes = changes
            try:
                fresh = await self.store.followers()
            except Exception:  # keep the last good cache; the next round tries again
                log.exception("reading push follows failed")
                continue
            finally:
                self._changes = None
            # Each change was committed before it was journaled: replaying a seen one is a no-op.
            for username, room, following in changes:
                self._apply(fresh, username, room, following)
            self.followers = fresh


def _sender_id(username: str, user: User | None) -> str:
    """The sender id this follower's own messages carry: a service's, or its account's."""
    if user is None or user.role == SERVICE:
        return service(username).id
    return user_sender(user.id, username).id
