"""kill -9 of the only instance, at a random moment while clients publish and subscribe, then a
restart on the same database: no id names two messages, recovery is exact, refs resolve."""

from __future__ import annotations

import random
import time
import uuid
from functools import partial

import pytest

from tests.faults.checker import check, history
from tests.faults.conftest import SECONDS, seeds
from tests.faults.peers import Publisher, Subscriber, publish_for, start_traffic
from tests.support.server import ServerProcess
from tests.support.waiting import eventually

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000", "CLOSE_TIMEOUT": "0.5"}


def settle(publishers: list[Publisher], subscribers: list[Subscriber]) -> None:
    """Resend until every publish is acked, then wait for subscribers to reach the last id."""

    def all_acked() -> bool:
        if any(pub.unacked() for pub in publishers):
            for pub in publishers:
                pub.resend_unacked()
            return False
        return True

    eventually(all_acked, timeout=30, what="every publish to be acked")
    newest = max(max(ids) for pub in publishers for ids in pub.log.acks.values())
    for sub in subscribers:
        eventually(partial(caught_up, sub, newest), timeout=30, what="subscribers to catch up")


def caught_up(subscriber: Subscriber, newest: int) -> bool:
    return (subscriber.last_id() or 0) >= newest


@pytest.mark.parametrize("seed", seeds())
def test_kill9_at_a_random_moment_never_reuses_an_id_and_recovery_is_exact(
    seed: int, database_url: str
) -> None:
    rng = random.Random(seed)
    room = f"k9-{uuid.uuid4().hex[:8]}"
    env = {**FAST, "DATABASE_URL": database_url}
    server = ServerProcess(env).start()
    port = server.port
    publishers = [Publisher(server.ws, f"p{n}", room) for n in range(3)]
    subscribers = [Subscriber(server.ws, room) for _ in range(2)]
    try:
        publishing = start_traffic(publishers, subscribers, SECONDS * 2, rng)
        time.sleep(rng.uniform(0.2, SECONDS * 1.5))
        server.kill()  # SIGKILL mid-stream: some publishes committed, some not, some unacked
        publishing.join()
        for peer in (*publishers, *subscribers):
            peer.drop()

        server = ServerProcess(env, port=port).start()
        for sub in subscribers:
            sub.open()
            sub.follow()
            answer = sub.wait_subscribed(2)
            assert answer["recovered"] is True, answer
        for pub in publishers:
            pub.open()
            pub.resend_unacked()
        publish_for(publishers, SECONDS / 2, rng)
        settle(publishers, subscribers)
        check(history(server.http, room), publishers, subscribers)
    finally:
        for peer in (*publishers, *subscribers):
            peer.drop()
        server.stop()
