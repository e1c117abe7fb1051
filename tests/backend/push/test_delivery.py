"""Web Push end to end: a real backend posts to a local push-service stand-in, whose requests
the test checks as a push service and a browser would (VAPID signature, aes128gcm payload)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import http_ece
import httpx
import pytest

from backend.push.keys import generate, private_key_b64, public_key_b64
from tests.support.auth import SECRET, bearer, sign
from tests.support.clients import JsonClient, publish_acked
from tests.support.pushservice import Browser, PushService, push_service, verify_vapid
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually

KEY = generate()
PUBLIC_KEY = public_key_b64(KEY)
ADMIN = bearer(sign("dan", role="admin"))


def push_env(**extra: str) -> dict[str, str]:
    return {
        "AUTH_REQUIRED": "true",
        "JWT_SECRET": SECRET,
        "PRIVATE_ROOMS": '{"staff": {"users": ["ops"]}}',
        "VAPID_PRIVATE_KEY": private_key_b64(KEY),
        "VAPID_SUBJECT": "mailto:ops@example.com",
        "PUSH_ALLOW_HTTP_ENDPOINTS": "true",
        "PUSH_ENDPOINT_HOSTS": '["127.0.0.1"]',
        "PUSH_RETRY_BASE_SECONDS": "0.05",
        **extra,
    }


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as stand_in:
        yield stand_in


def subscribe(server: ServerProcess, user: str, browser: Browser, *rooms: str) -> None:
    auth = bearer(sign(user))
    sub = browser.subscription()
    answer = httpx.post(server.http + "/push/subscriptions", json=sub, headers=auth)
    assert answer.status_code == 201, answer.text
    for room in rooms:
        assert httpx.put(f"{server.http}/push/follows/{room}", headers=auth).status_code == 204


def publish(server: ServerProcess, room: str, text: str) -> int:
    answer = httpx.post(f"{server.http}/rooms/{room}/messages", json={"text": text}, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    message_id: int = answer.json()["id"]
    return message_id


def metric(server: ServerProcess, name: str) -> float:
    text = httpx.get(server.http + "/metrics").text
    found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_an_offline_follower_gets_an_encrypted_signed_push_and_nobody_else_does(
    make_server: ServerFactory, service: PushService
) -> None:
    server = make_server(push_env())
    assert httpx.get(server.http + "/push/config").json() == {
        "enabled": True,
        "public_key": PUBLIC_KEY,
    }
    ana, bob, cid = (Browser(service.endpoint(n)) for n in ("ana", "bob", "cid"))
    subscribe(server, "ana", ana, "news")
    subscribe(server, "bob", bob, "news")
    subscribe(server, "cid", cid, "lobby")  # subscribed, but not following "news"
    online = JsonClient(server.ws, f"room=lobby&token={sign('bob')}")  # bob is connected
    online.next_of("subscribed")

    long_text = "x" * 100 + "y" * 100
    first = publish(server, "news", long_text)
    received = eventually(lambda: service.to("ana"), what="ana's push")[0]

    claims = verify_vapid(received, PUBLIC_KEY, audience=service.origin)
    assert claims["sub"] == "mailto:ops@example.com"
    assert int(received.headers["ttl"]) == 3600
    body = ana.decrypt(received)
    assert body == {
        "room": "news",
        "id": first,
        "sender": "dan",
        "sender_id": "s:dan",
        "guest": False,
        "text": long_text[:119] + "…",
    }
    assert len(body["text"]) == 120
    with pytest.raises(http_ece.ECEException, match="InvalidTag"):  # only ana's key opens it
        bob.decrypt(received)
    eventually(lambda: metric(server, "desafio_push_skipped_online_total") == 1, what="bob skip")

    # A later message is a barrier: once ana has its push, the first one's are all done.
    second = publish(server, "news", "short")
    eventually(lambda: len(service.to("ana")) == 2, what="ana's second push")
    assert ana.decrypt(service.to("ana")[1])["id"] == second
    assert [r.path for r in service.all()] == ["/push/ana", "/push/ana"]
    assert metric(server, "desafio_push_skipped_online_total") == 2
    assert metric(server, "desafio_push_sent_total") == 2


def test_a_gone_subscription_is_deleted_and_a_5xx_is_retried(
    make_server: ServerFactory, service: PushService
) -> None:
    server = make_server(push_env())
    gone, flaky = Browser(service.endpoint("gone")), Browser(service.endpoint("flaky"))
    service.answers = {"/push/gone": [410], "/push/flaky": [503, 500]}
    subscribe(server, "ana", gone, "news")
    subscribe(server, "bob", flaky, "news")
    mine = bearer(sign("ana"))
    listed = httpx.get(server.http + "/push/subscriptions", headers=mine).json()
    assert listed == {"endpoints": [gone.endpoint]}

    sent = publish(server, "news", "hello")
    eventually(
        lambda: (
            httpx.get(server.http + "/push/subscriptions", headers=mine).json() == {"endpoints": []}
        ),
        what="the gone subscription to be deleted",
    )
    assert len(service.to("gone")) == 1
    # bob's push service failed twice, then took it: the same push, three times.
    eventually(lambda: len(service.to("flaky")) == 3, what="bob's retried push")
    assert flaky.decrypt(service.to("flaky")[2])["id"] == sent
    eventually(lambda: metric(server, "desafio_push_sent_total") == 1, what="sent count")
    assert metric(server, 'desafio_push_failures_total{kind="gone"}') == 1
    assert metric(server, 'desafio_push_failures_total{kind="retry"}') == 2

    publish(server, "news", "again")  # nothing goes to the deleted subscription any more
    eventually(lambda: len(service.to("flaky")) == 4, what="bob's next push")
    assert len(service.to("gone")) == 1


def test_the_per_user_rate_cap_holds(make_server: ServerFactory, service: PushService) -> None:
    server = make_server(push_env(PUSH_PER_USER_PER_MINUTE="2"))
    ana = Browser(service.endpoint("ana"))
    subscribe(server, "ana", ana, "news")
    ids = [publish(server, "news", f"message {n}") for n in range(5)]
    capped = 'desafio_push_dropped_total{reason="rate_capped"}'
    eventually(lambda: metric(server, capped) == 3, what="three capped pushes")
    eventually(lambda: metric(server, "desafio_push_sent_total") == 2, what="two pushes sent")
    assert len(service.to("ana")) == 2
    assert {ana.decrypt(r)["id"] for r in service.to("ana")} <= set(ids)


def test_a_guests_push_says_it_is_a_guests_and_carries_the_sender_id(
    make_server: ServerFactory, service: PushService
) -> None:
    server = make_server(push_env(AUTH_REQUIRED="false"))
    ana = Browser(service.endpoint("ana"))
    subscribe(server, "ana", ana, "news")
    publish_acked(server.ws, "news", ["from a guest"], name="maria")
    eventually(lambda: service.to("ana"), what="ana's push")
    body = ana.decrypt(service.to("ana")[0])
    # The name alone would pass for anyone's: the id and the flag are the server's word.
    assert (body["sender"], body["guest"], body["text"]) == ("maria", True, "from a guest")
    assert re.fullmatch(r"g:[0-9a-f]{16}", body["sender_id"])


def test_a_guest_named_like_a_follower_is_not_taken_for_the_follower(
    make_server: ServerFactory, service: PushService
) -> None:
    # "One's own message needs no push" was decided by the display name: a guest who took the
    # follower's name silenced every push of its messages to them. It is decided by the id.
    server = make_server(push_env(AUTH_REQUIRED="false"))
    # The guest took the name before it was anyone's (a guest keeps its socket's name).
    guest = JsonClient(server.ws, "name=ana&room=news")
    guest.next_of("subscribed")
    ana = Browser(service.endpoint("ana"))
    subscribe(server, "ana", ana, "news")
    guest.send(type="publish", room="news", text="not from ana", ref="g1")
    guest.next_of("ack")
    guest.close()
    eventually(lambda: service.to("ana"), what="ana's push")
    body = ana.decrypt(service.to("ana")[0])
    assert (body["sender"], body["guest"], body["text"]) == ("ana", True, "not from ana")
