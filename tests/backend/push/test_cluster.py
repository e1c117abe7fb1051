"""Two instances on one Redis: a follower connected to the other instance counts as online."""

from __future__ import annotations

from pathlib import Path

import redis

from backend.push.online import ONLINE
from tests.backend.push.test_delivery import metric, publish, push_env, subscribe
from tests.support.auth import sign
from tests.support.clients import JsonClient
from tests.support.pushservice import Browser, push_service
from tests.support.redis import RedisServer
from tests.support.server import ServerFactory
from tests.support.waiting import eventually


def test_a_user_online_on_another_instance_is_not_pushed(
    redis_server: RedisServer, make_server: ServerFactory, tmp_path: Path
) -> None:
    shared = {
        "BROKER_URL": redis_server.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/shared.db",
        "CLOSE_TIMEOUT": "0.5",
    }
    with push_service() as service:
        a = make_server(push_env(**shared))
        b = make_server(push_env(**shared))
        ana, bob = Browser(service.endpoint("ana")), Browser(service.endpoint("bob"))
        subscribe(a, "ana", ana, "news")
        subscribe(a, "bob", bob, "news")
        on_b = JsonClient(b.ws, f"room=lobby&token={sign('bob')}")
        on_b.next_of("subscribed")
        client = redis.Redis.from_url(redis_server.url)
        try:
            eventually(lambda: client.zscore(ONLINE, "bob"), what="bob online in Redis")
            assert client.zscore(ONLINE, "ana") is None
        finally:
            client.close()

        sent = publish(a, "news", "across the cluster")  # on A, where bob is not connected
        eventually(lambda: service.to("ana"), what="ana's push")
        assert ana.decrypt(service.to("ana")[0])["id"] == sent
        eventually(lambda: metric(a, "desafio_push_skipped_online_total") == 1, what="bob skip")
        assert service.to("bob") == []
