"""Cluster faults on real redis-server, PostgreSQL and two instances: Redis stalls (SIGSTOP),
Redis restarts with and without persistence, kill -9 of an instance (its clients move to the
other, publishers resend, subscribers recover with `since`), and simultaneous fresh starts.
The same checker as the single instance: the log's guarantees hold across instances."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.checker import check, history
from tests.faults.conftest import SECONDS, SEEDS, seeds
from tests.faults.peers import Publisher, Subscriber, publish_for, start_traffic
from tests.faults.test_single_instance import FAST, settle
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ServerProcess

FAULTS = ["redis-stall", "redis-restart", "redis-restart-aof", "instance-kill"]


@pytest.fixture
def redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    server = RedisServer(persistent=request.node.callspec.params["fault"].endswith("aof")).start()
    yield server
    server.close()


def inject(fault: str, redis: RedisServer, victim: ServerProcess, rng: random.Random) -> None:
    if fault == "redis-stall":
        redis.pause()
        time.sleep(rng.uniform(3.0, 6.0))  # past the clients' socket timeouts
        redis.resume()
    elif fault.startswith("redis-restart"):
        redis.kill()
        time.sleep(rng.uniform(0.2, 1.5))
        redis.start()
    else:
        victim.kill()


@pytest.mark.parametrize("seed", seeds())
@pytest.mark.parametrize("fault", FAULTS)
def test_the_log_holds_across_instances_through_the_fault(
    fault: str, seed: int, redis: RedisServer, postgres: PostgresServer
) -> None:
    rng = random.Random(seed)
    room = f"c-{uuid.uuid4().hex[:8]}"
    env = {**FAST, "BROKER_URL": redis.url, "DATABASE_URL": postgres.fresh_database()}
    a, b = ServerProcess(env).start(), ServerProcess(env).start()
    publishers = [Publisher(server.ws, f"p{n}", room) for n, server in enumerate((a, b, a))]
    subscribers = [Subscriber(server.ws, room) for server in (a, b, a, b)]
    try:
        publishing = start_traffic(publishers, subscribers, SECONDS * 2, rng)
        time.sleep(rng.uniform(0.2, SECONDS))
        inject(fault, redis, a, rng)
        publishing.join()
        if fault == "instance-kill":
            # A's clients come back on B: publishers resend, subscribers recover with since.
            moved = [p for p in (*publishers, *subscribers) if p.url.startswith(a.ws)]
            for peer in moved:
                peer.drop()
                peer.open(peer.url.replace(a.ws, b.ws))
                if isinstance(peer, Subscriber):
                    peer.follow()
                    assert peer.wait_subscribed(2)["recovered"] is True
        for pub in publishers:
            pub.resend_unacked()
        publish_for(publishers, SECONDS / 2, rng)
        settle(publishers, subscribers)
        # A subscriber moving to the other instance recovers exactly there too.
        mover = subscribers[0]
        mover.drop()
        mover.open(mover.url.replace(a.ws, b.ws))
        mover.follow()
        assert mover.wait_subscribed(len(mover.subscribed) + 1)["recovered"] is True
        publish_for(publishers, 0.3, rng)
        settle(publishers, subscribers)
        check(history(b.http, room), publishers, subscribers)
    finally:
        for peer in (*publishers, *subscribers):
            peer.drop()
        a.stop()
        b.stop()


def test_instances_starting_together_on_an_empty_database_all_come_up(
    postgres: PostgresServer,
) -> None:
    for _ in range(SEEDS):  # one round in make test, many in make faults
        env = {"DATABASE_URL": postgres.fresh_database()}
        servers = [ServerProcess(env) for _ in range(3)]
        starting = [
            threading.Thread(target=server.start, kwargs={"timeout": 60.0}) for server in servers
        ]
        try:
            for thread in starting:
                thread.start()
            for thread in starting:
                thread.join(60)
            for server in servers:
                assert server.proc is not None and server.proc.poll() is None
                assert httpx.get(server.http + "/readyz", timeout=5).status_code == 200
        finally:
            for server in servers:
                server.stop()
