"""Two instances while Redis stalls (SIGSTOP): a subscriber that moves to the instance the broker
is not feeding still recovers exactly; what an instance acked before being killed mid-stall (its
appends to Redis never made) still reaches the other instance's subscribers, and a recovery
there is exact; and connects and subscribes are answered during the stall, not after it. The
same checker as every fault suite."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial

import pytest

from tests.faults.checker import check, history
from tests.faults.conftest import SECONDS, seeds
from tests.faults.peers import Peer, Publisher, Subscriber, publish_for, start_traffic
from tests.faults.test_single_instance import FAST, caught_up, settle
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ServerProcess
from tests.support.waiting import eventually


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.close()


@dataclass
class Cluster:
    """Two instances on one Redis and one database, and the clients to drop when done."""

    a: ServerProcess
    b: ServerProcess
    peers: list[Peer] = field(default_factory=list)

    def joined(self, *peers: Peer) -> None:
        self.peers.extend(peers)

    def subscribed(self, *subscribers: Subscriber) -> None:
        """Join, connect and subscribe each, waiting for its `subscribed`."""
        self.joined(*subscribers)
        for sub in subscribers:
            sub.open()
            sub.follow()
            sub.wait_subscribed(1)


@pytest.fixture
def cluster(redis: RedisServer, postgres: PostgresServer) -> Iterator[Cluster]:
    env = {**FAST, "BROKER_URL": redis.url, "DATABASE_URL": postgres.fresh_database()}
    running = Cluster(ServerProcess(env).start(), ServerProcess(env).start())
    try:
        yield running
    finally:
        for peer in running.peers:
            peer.drop()
        running.a.stop()
        running.b.stop()


@pytest.mark.parametrize("seed", seeds())
def test_subscribers_moving_to_another_instance_during_a_redis_stall_recover_exactly(
    seed: int, redis: RedisServer, cluster: Cluster
) -> None:
    rng = random.Random(seed)
    room = f"m-{uuid.uuid4().hex[:8]}"
    a, b = cluster.a, cluster.b
    # Everything is published on A: while Redis stalls, B hears of none of it.
    publishers = [Publisher(a.ws, f"p{n}", room) for n in range(2)]
    movers = [Subscriber(a.ws, room) for _ in range(3)]
    stayer = Subscriber(b.ws, room)
    subscribers = [*movers, stayer]
    cluster.joined(*publishers, *subscribers)
    publishing = start_traffic(publishers, subscribers, SECONDS * 2, rng)
    time.sleep(rng.uniform(0.2, SECONDS / 2))
    redis.pause()
    time.sleep(rng.uniform(0.3, 1.0))
    for sub in movers:
        sub.drop()
        sub.open(sub.url.replace(a.ws, b.ws))
        sub.follow()
        assert sub.wait_subscribed(2)["recovered"] is True
        time.sleep(rng.uniform(0.0, 0.3))
    redis.resume()
    publishing.join()
    for pub in publishers:
        pub.resend_unacked()
    publish_for(publishers, 0.3, rng)
    settle(publishers, subscribers)
    check(history(b.http, room), publishers, subscribers)


@pytest.mark.parametrize("seed", seeds())
def test_what_an_instance_acked_before_it_was_killed_mid_stall_reaches_the_other_instance(
    seed: int, redis: RedisServer, cluster: Cluster
) -> None:
    rng = random.Random(seed)
    room = f"k-{uuid.uuid4().hex[:8]}"
    a, b = cluster.a, cluster.b
    publishers = [Publisher(a.ws, "p0", room)]
    subscribers = [Subscriber(b.ws, room) for _ in range(2)]
    cluster.joined(*publishers, *subscribers)
    start_traffic(publishers, subscribers, 0.3, rng).join()
    settle(publishers, subscribers)
    redis.pause()
    # Acked (committed), but A's appends to Redis wait for Redis: then A dies with them.
    publish_for(publishers, rng.uniform(0.2, 0.6), rng)
    eventually(lambda: not publishers[0].unacked(), timeout=10, what="the acks")
    a.kill()
    time.sleep(rng.uniform(0.2, 1.5))
    redis.resume()
    newest = max(max(ids) for ids in publishers[0].log.acks.values())
    # No one publishes in the room again: only noticing A's death can bring these.
    for sub in subscribers:
        eventually(partial(caught_up, sub, newest), timeout=20, what="the stall's ids")
    # And a recovery from before the stall, on B, is exact up to what A acked.
    late = Subscriber(b.ws, room)
    cluster.joined(late)
    late.seen = [replace(subscribers[0].seen[0], connection=0)]  # "seen" before connecting
    late.epoch = subscribers[0].epoch
    late.open()
    late.follow()
    assert late.wait_subscribed(1)["recovered"] is True
    eventually(lambda: caught_up(late, newest), timeout=10, what="the recovery")
    check(history(b.http, room), publishers, [*subscribers, late])


def test_during_a_redis_stall_subscribes_on_either_instance_do_not_wait_for_redis(
    redis: RedisServer, cluster: Cluster
) -> None:
    room = f"w-{uuid.uuid4().hex[:8]}"
    a, b = cluster.a, cluster.b
    first = [Subscriber(a.ws, room), Subscriber(b.ws, room)]
    cluster.subscribed(*first)
    redis.pause()
    waited = []
    for n in range(6):
        # Into the room both instances follow, and into rooms opened during the stall.
        sub = Subscriber((a, b)[n % 2].ws, room if n < 4 else f"{room}-{n}")
        started = time.monotonic()
        cluster.subscribed(sub)
        waited.append(time.monotonic() - started)
    redis.resume()
    # The first call to find Redis stalled waits its short timeout (1 s); the others none.
    # Before, each connect and subscribe waited out Redis's socket timeout, retried: ~10 s.
    assert max(waited) < 4, waited
    # Once Redis is back, the cluster's presence holds everyone again (written back silently).
    late = Subscriber(b.ws, room)
    cluster.joined(late)

    def everyone_listed() -> bool:
        late.drop()
        with late.lock:
            late.subscribed.clear()
        late.open()
        late.follow()
        return bool(late.wait_subscribed(1)["count"] == len(first) + 4 + 1)

    eventually(everyone_listed, timeout=15, what="the cluster's presence after the stall")


@pytest.mark.parametrize("seed", seeds())
def test_a_room_an_instance_starts_following_during_a_short_stall_gets_what_was_published_then(
    seed: int, redis: RedisServer, cluster: Cluster
) -> None:
    # The subscribe on B cannot resolve the room's stream (Redis stalled), so the reader does
    # it after the stall, at the stream's end as it is then: what A appended meanwhile was
    # skipped, and waited for the room's next message (forever, if none came).
    rng = random.Random(seed)
    room = f"s-{uuid.uuid4().hex[:8]}"
    a, b = cluster.a, cluster.b
    publisher = Publisher(a.ws, "p0", room)
    cluster.joined(publisher)
    publisher.open()
    for _ in range(3):
        publisher.publish_next()
    time.sleep(0.5)  # every instance's reader is in its blocking XREAD
    redis.pause()
    paused = time.monotonic()
    time.sleep(0.2)
    late = Subscriber(b.ws, room)  # nobody on B follows the room yet
    cluster.subscribed(late)
    for _ in range(rng.randint(3, 6)):
        publisher.publish_next()
        time.sleep(0.05)
    # Shorter than the reader's 5 s timeout, so its XREAD never fails.
    time.sleep(max(0.0, paused + rng.uniform(1.6, 2.1) - time.monotonic()))
    redis.resume()
    eventually(lambda: not publisher.unacked(), timeout=10, what="the acks")
    newest = max(max(ids) for ids in publisher.log.acks.values())
    # Nobody publishes again: only the late resolution's resync can bring them.
    eventually(partial(caught_up, late, newest), timeout=12, what="what was published")
    check(history(b.http, room), [publisher], [late])


def test_someone_who_came_and_went_during_a_stall_is_not_left_in_the_clusters_presence(
    redis: RedisServer, cluster: Cluster
) -> None:
    # The join timed out here (1 s) but Redis ran it when the stall ended, and the leave was
    # skipped (Redis known down): peers counted a member who had gone, for good.
    room = f"g-{uuid.uuid4().hex[:8]}"
    a, b = cluster.a, cluster.b
    keeper, watcher = Subscriber(a.ws, room), Subscriber(b.ws, room)
    cluster.subscribed(keeper, watcher)  # A follows the room: the ghost's join is its first call
    time.sleep(1.5)
    redis.pause()
    time.sleep(0.2)
    ghost = Subscriber(a.ws, room)
    cluster.subscribed(ghost)
    ghost.drop()
    time.sleep(2.5)
    redis.resume()

    time.sleep(4)  # past a few heartbeats: the late join has run, the resync too
    answers = 1  # the watcher's count: itself and the keeper

    def counted_right() -> bool:
        # The count B keeps from the presence it hears (a re-subscribe asks Redis nothing).
        nonlocal answers
        watcher.follow()
        answers += 1
        return bool(watcher.wait_subscribed(answers)["count"] == 2)

    eventually(counted_right, timeout=10, what="the watcher's count without the gone member")
