"""Per subscribed room, the one order this instance fans messages out in: id after id.

Committed messages reach an instance from its own store writer and, in a cluster, from the
broker, in whatever order the network makes; the same one may come twice (a resync and then the
broker's copy). The sequencer hands the fan-out each id once, in order. An id that arrives ahead
of a missing one waits `GAP_WAIT` for it, then the gap is read from the store: the store commits
ids in order, so anything above a gap proves the gap is already committed and readable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from backend.messages import Envelope
from backend.storage import StorageError, Store, Window

log = logging.getLogger("desafio.hub")

# How long an early id waits for the missing ones before they are read from the store.
GAP_WAIT = 0.25
# Early ids held per room at most; beyond this the gap is read at once (the budget for a room
# whose missing ids never come, e.g. their author instance died before telling the broker).
MAX_WAITING = 1_000
# Rows per store read while filling a gap or resyncing.
FILL_PAGE = 500
# After a failed read, try again this much later.
RETRY_AFTER = 1.0
# Replay pages read from the store at once, across all clients.
REPLAY_READS = 4
# How often, and how long, a replay waits for a room's feed to reach an id (catch_up).
CATCH_UP_POLL = 0.02
CATCH_UP_FOR = 10.0


class RoomFeed:
    """The last id fanned out in one room here (None until known) and the early arrivals."""

    __slots__ = ("filling", "last", "waiting")

    def __init__(self) -> None:
        self.last: int | None = None
        self.waiting: dict[int, Envelope] = {}
        self.filling: asyncio.Task[None] | None = None


class Sequencer:
    def __init__(self, store: Store, fanout: Callable[[Envelope], None]) -> None:
        self.store = store
        self.fanout = fanout
        self.feeds: dict[str, RoomFeed] = {}
        # Replays' store reads at once (backend.hub.replay): each page is up to 500 rows read and
        # encoded on this process; many clients recovering together take turns, not all memory.
        self.replay_reads = asyncio.Semaphore(REPLAY_READS)

    def open(self, room: str) -> RoomFeed:
        """Start following `room`; what arrives before `start` knows the position waits."""
        feed = self.feeds[room] = RoomFeed()
        return feed

    async def start(self, room: str) -> None:
        """Fan out from the room's current end (what the store has committed so far)."""
        try:
            position = await self.store.position(room)
        except StorageError:
            position = None
        feed = self.feeds.get(room)
        if feed is None or feed.last is not None:
            return
        if position is not None:
            feed.last = position.last
            if feed.waiting:
                # Offered while the position was read: committed after the room was followed,
                # so fanned out here, even those the read already counted as there.
                feed.last = min(feed.last, min(feed.waiting) - 1)
        elif feed.waiting:
            feed.last = min(feed.waiting) - 1
        # Otherwise (store down, nothing arrived yet) the first arrival sets the position.
        self._drain(room, feed)

    def stop(self) -> None:
        """Forget every room (shutdown): no fill may outlive the hub."""
        for room in list(self.feeds):
            self.close(room)

    def close(self, room: str) -> None:
        feed = self.feeds.pop(room, None)
        if feed is not None and feed.filling is not None:
            feed.filling.cancel()

    def last(self, room: str) -> int | None:
        feed = self.feeds.get(room)
        return None if feed is None else feed.last

    def filling(self) -> bool:
        """Whether some room is still being read from the store."""
        return any(feed.filling is not None for feed in self.feeds.values())

    def offer(self, envelope: Envelope) -> None:
        feed = self.feeds.get(envelope.room)
        if feed is None:
            return  # nobody here follows the room (any more)
        if feed.last is not None and envelope.id <= feed.last:
            return  # already fanned out: a duplicate
        feed.waiting[envelope.id] = envelope
        if feed.last is not None:
            self._drain(envelope.room, feed)

    def resync(self) -> None:
        """Read every followed room from the store after what was fanned out (the broker may
        have lost some of another instance's messages)."""
        for room, feed in self.feeds.items():
            if feed.last is not None and feed.filling is None:
                feed.filling = asyncio.get_running_loop().create_task(self._fill(room, 0.0))

    async def catch_up(self, room: str, at_least: int) -> bool:
        """Wait until this instance has fanned out `room` up to `at_least`, reading the store for
        what the broker has not brought (yet, or ever: its author instance may have died before
        appending it). False if the room is left meanwhile, or the store does not get there in
        CATCH_UP_FOR seconds. A replay hands a client over to live only from there: from an
        earlier id, live would send again what the client has, or skip what it missed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_FOR
        while loop.time() < deadline:
            feed = self.feeds.get(room)
            if feed is None:
                return False
            if feed.last is not None:  # None: the feed is starting (its position is being read)
                if feed.last >= at_least:
                    return True
                if feed.filling is None:
                    feed.filling = loop.create_task(self._fill(room, 0.0))
            await asyncio.sleep(CATCH_UP_POLL)
        return False

    def _drain(self, room: str, feed: RoomFeed) -> None:
        if feed.last is None:
            if not feed.waiting:
                return
            feed.last = min(feed.waiting) - 1  # the position could not be read: start here
        while (envelope := feed.waiting.pop(feed.last + 1, None)) is not None:
            feed.last = envelope.id
            self.fanout(envelope)
        if feed.waiting and feed.filling is None:
            wait = 0.0 if len(feed.waiting) >= MAX_WAITING else GAP_WAIT
            feed.filling = asyncio.get_running_loop().create_task(self._fill(room, wait))

    async def _fill(self, room: str, wait: float) -> None:
        """Read the store after the last id fanned out, until the waiting ids connect (or, for a
        resync, until the store has nothing more)."""
        await asyncio.sleep(wait)
        feed = self.feeds.get(room)
        try:
            while feed is not None and self.feeds.get(room) is feed:
                if not await self._fill_page(room, feed):
                    return
        finally:
            if feed is not None and self.feeds.get(room) is feed:
                feed.filling = None
                if feed.waiting:
                    self._drain(room, feed)

    async def _fill_page(self, room: str, feed: RoomFeed) -> bool:
        """One read; True when there may be more to read."""
        last = feed.last
        if last is None:
            return False
        try:
            page = await self.store.read(room, Window(limit=FILL_PAGE, after=last))
        except StorageError:
            await asyncio.sleep(RETRY_AFTER)
            return True
        if self.feeds.get(room) is not feed or feed.last is None:
            return False
        for envelope in page:
            if envelope.id > feed.last:
                feed.waiting.setdefault(envelope.id, envelope)
        before = feed.last
        while (nxt := feed.waiting.pop(feed.last + 1, None)) is not None:
            feed.last = nxt.id
            self.fanout(nxt)
        if len(page) == FILL_PAGE:
            return True
        if feed.waiting and feed.last == before:
            # The store has no such ids: deleted before they could be read (retention).
            skipped = min(feed.waiting) - 1
            log.warning("room %s: ids %d-%d are not stored; skipping", room, feed.last + 1, skipped)
            feed.last = skipped
            return True
        return False
