"""Where the server may POST a push (SSRF): endpoints are read by the HTTP client's own parser,
https on public addresses of allowed push services only, checked again when connecting, no
redirects; and an endpoint stays with the user who registered it."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests

from backend.push.endpoints import guarded_session
from tests.backend.push.test_delivery import metric, publish, push_env, subscribe
from tests.support.auth import bearer, sign
from tests.support.pushservice import Browser, PushService, push_service
from tests.support.server import ServerFactory, ServerProcess
from tests.support.waiting import eventually

ANA = bearer(sign("ana"))


@pytest.fixture(scope="module")
def production() -> Iterator[ServerProcess]:
    """Production rules (no PUSH_ALLOW_HTTP_ENDPOINTS), two extra push hosts to aim at."""
    env = push_env(
        PUSH_ALLOW_HTTP_ENDPOINTS="false",
        PUSH_EXTRA_ENDPOINT_HOSTS='["localhost", "push.example.test"]',
    )
    env.pop("PUSH_ENDPOINT_HOSTS")
    with ServerProcess(env) as proc:
        yield proc


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as stand_in:
        yield stand_in


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1\\@push.example.test/x",  # urlsplit and requests read two hosts
        "https://push.example.test:443\\@127.0.0.1/x",  # a port and a backslash
        "https://push.example.test\\.evil.example/x",
        "https://user@push.example.test/x",  # user-info
        "https://localhost/push/x",  # allowed name, loopback address
        "https://10.0.0.1/push/x",  # an address, not a push service
        "https://[::1]/push/x",
        "https://localhost:8443/push/x",  # not the https port
        "http://localhost/push/x",  # not https
        "https://push.example.test/x\r\nHost: evil",
        "https://no-such-host.push.example.test/x",  # does not resolve
        "https://fcm.googleapis.com.evil.example/x",
    ],
)
def test_endpoints_aimed_at_internal_addresses_are_refused_at_registration(
    production: ServerProcess, endpoint: str
) -> None:
    sub = Browser("https://placeholder").subscription() | {"endpoint": endpoint}
    answer = httpx.post(production.http + "/push/subscriptions", json=sub, headers=ANA)
    assert answer.status_code == 422, answer.text
    assert httpx.get(production.http + "/push/subscriptions", headers=ANA).json() == {
        "endpoints": []
    }


def test_connections_go_only_to_checked_public_addresses(service: PushService) -> None:
    with pytest.raises(requests.ConnectionError, match="private or reserved"):
        guarded_session(allow_private=False).post(service.endpoint("x"), data=b"", timeout=5)
    with pytest.raises(requests.ConnectionError):
        guarded_session(allow_private=False).post(
            f"http://localhost:{service.port}/push/x", data=b"", timeout=5
        )
    assert service.all() == []  # nothing reached the internal address
    # The development setting (PUSH_ALLOW_HTTP_ENDPOINTS) is what lets the stand-in be reached.
    answer = guarded_session(allow_private=True).post(service.endpoint("x"), data=b"", timeout=5)
    assert answer.status_code == 201 and len(service.to("x")) == 1


@pytest.fixture
def redirector(service: PushService) -> Iterator[str]:
    """An HTTP server that sends every POST on to the stand-in (307)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", service.endpoint("redirected"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/push/x"
    finally:
        server.shutdown()
        server.server_close()


def test_redirects_are_not_followed(service: PushService, redirector: str) -> None:
    with pytest.raises(requests.TooManyRedirects):
        guarded_session(allow_private=True).post(redirector, data=b"", timeout=5)
    assert service.to("redirected") == []


def test_an_endpoint_stays_with_the_user_who_registered_it(
    make_server: ServerFactory, service: PushService
) -> None:
    server = make_server(push_env())
    url = server.http + "/push/subscriptions"
    sub = Browser(service.endpoint("anas-browser")).subscription()
    assert httpx.post(url, json=sub, headers=ANA).status_code == 201
    mallory = bearer(sign("mallory"))
    assert httpx.post(url, json=sub, headers=mallory).status_code == 409
    assert (
        httpx.request(
            "DELETE", url, json={"endpoint": sub["endpoint"]}, headers=mallory
        ).status_code
        == 404
    )
    assert httpx.get(url, headers=ANA).json() == {"endpoints": [sub["endpoint"]]}
    assert httpx.get(url, headers=mallory).json() == {"endpoints": []}
    assert httpx.post(url, json=sub, headers=ANA).status_code == 201  # its owner may refresh it


def test_a_bad_stored_endpoint_is_refused_cleanly_not_an_exception_per_message(
    make_server: ServerFactory, service: PushService, capfd: pytest.CaptureFixture[str]
) -> None:
    server = make_server(push_env())
    subscribe(server, "ana", Browser(service.endpoint("ana")), "news")
    # A row from before these rules: a port and a backslash, as the issue reported.
    with sqlite3.connect(server.env["DATABASE_URL"].split("///", 1)[1]) as db:
        db.execute(
            "UPDATE push_subscriptions SET endpoint = ? WHERE username = 'ana'",
            ("http://127.0.0.1:443\\@127.0.0.1/push/ana",),
        )
    for n in range(3):
        publish(server, "news", f"message {n}")
    eventually(
        lambda: metric(server, 'desafio_push_failures_total{kind="rejected"}') == 3,
        what="three rejected pushes",
    )
    assert service.all() == []
    server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert not re.search(r"\\\\@", err)  # the endpoint itself is never logged
