"""Who may still be pushed to at send time: a follow was allowed once, but the account behind it
may since have been disabled. Real backend, real accounts, a local push-service stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.backend.push.test_delivery import ADMIN, publish, push_env, subscribe
from tests.support.auth import bearer, login, register
from tests.support.pushservice import Browser, PushService, push_service
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as stand_in:
        yield stand_in


def registered(server: ServerProcess, username: str, password: str) -> dict[str, str]:
    """The bearer header of a real account (its token carries `uid` and `ver`)."""
    assert register(server, username, password).status_code == 201
    answer = login(server, username, password)
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def admin(server: ServerProcess, action: str, username: str) -> None:
    answer = httpx.post(f"{server.http}/admin/users/{username}/{action}", headers=ADMIN)
    assert answer.status_code == 200, answer.text


def test_a_disabled_follower_gets_no_push_for_any_room_until_enabled_again(
    make_server: ServerFactory, service: PushService
) -> None:
    server = make_server(push_env(PRIVATE_ROOMS='{"staff": {"users": ["ana", "bob"]}}'))
    ana, bob = Browser(service.endpoint("ana")), Browser(service.endpoint("bob"))
    auth = registered(server, "ana", "ana password 1")
    sub = httpx.post(server.http + "/push/subscriptions", json=ana.subscription(), headers=auth)
    assert sub.status_code == 201, sub.text
    for room in ("news", "staff"):  # an open room and a private one ana may read
        assert httpx.put(f"{server.http}/push/follows/{room}", headers=auth).status_code == 204
    # bob follows the same rooms: his pushes show when the server has handled each message.
    subscribe(server, "bob", bob, "news", "staff")

    before = publish(server, "news", "before")
    eventually(lambda: len(service.to("ana")) == 1, what="ana's push while enabled")

    admin(server, "disable", "ana")
    publish(server, "news", "an open room's message")
    publish(server, "staff", "a private room's message")
    # ana's pushes for a message are considered before bob's (followers in name order), and
    # bob's take more work (a delivery): once bob has both, ana's were decided.
    eventually(lambda: len(service.to("bob")) == 3, what="bob's pushes")

    admin(server, "enable", "ana")  # decided at send time, not for good at the follow
    after = publish(server, "news", "after")
    eventually(lambda: len(service.to("ana")) >= 2, what="ana's push once enabled again")
    assert [ana.decrypt(r)["id"] for r in service.to("ana")] == [before, after]
