"""Browser-facing edges against a real server: ALLOWED_ORIGINS on /ws and CORS, log redaction
of the parsed query, and the JSON subprotocol only on connections that speak JSON."""

from __future__ import annotations

import httpx
import pytest

from tests.support.auth import OTHER_SECRET, SECURED, refused_status, sign
from tests.support.clients import JsonClient, connect
from tests.support.server import ServerFactory

SITE = "https://chat.example.com"


def test_allowed_origins_refuse_other_pages_before_accepting(make_server: ServerFactory) -> None:
    server = make_server({"ALLOWED_ORIGINS": f'["{SITE}"]'})
    assert refused_status(server.ws, origin="https://evil.example") == 403
    assert refused_status(server.ws, origin="null") == 403
    connect(server.ws, origin=SITE).close()
    connect(server.ws, suppress_origin=True).close()  # not a browser: no Origin to check


def test_without_allowed_origins_any_origin_may_connect(make_server: ServerFactory) -> None:
    server = make_server()
    connect(server.ws, origin="https://elsewhere.example").close()
    answer = httpx.get(server.http + "/auth/config", headers={"Origin": SITE})
    assert "access-control-allow-origin" not in answer.headers  # no CORS unless configured


def test_allowed_origins_drive_cors(make_server: ServerFactory) -> None:
    server = make_server({"ALLOWED_ORIGINS": f'["{SITE}"]'})
    allowed = httpx.get(server.http + "/auth/config", headers={"Origin": SITE})
    assert allowed.headers["access-control-allow-origin"] == SITE
    other = httpx.get(server.http + "/auth/config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        server.http + "/rooms/lobby/messages",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("name", ["%74oken", "to%6Ben", "%74%6F%6B%65%6E"])
def test_an_encoded_token_parameter_is_redacted_too(
    make_server: ServerFactory, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    server = make_server({**SECURED, "LOG_LEVEL": "INFO"})
    good, bad = sign("ana"), sign("ana", secret=OTHER_SECRET)
    JsonClient(server.ws, f"{name}={good}").close()
    assert refused_status(f"{server.ws}?format=json&{name}={bad}") == 403
    httpx.get(f"{server.http}/rooms/lobby/messages?{name}={good}")
    server.stop()
    err = capfd.readouterr().err
    assert f"{name}=[redacted]" in err
    for secret in (good, bad, good.split(".")[2], bad.split(".")[2]):
        assert secret not in err


def test_a_secret_under_a_name_the_server_ignores_is_redacted_too(
    make_server: ServerFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    server = make_server({**SECURED, "LOG_LEVEL": "INFO"})
    secret = sign("ana")
    names = ["token%00", "x;token", "token[]", "my_password", "SESSION_ID"]
    for name in names:
        httpx.get(f"{server.http}/rooms/lobby/messages?{name}={secret}")
    server.stop()
    captured = capfd.readouterr()
    logged = captured.out + captured.err  # uvicorn's access log goes to stdout
    for name in names:
        assert f"{name}=[redacted]" in logged
    assert secret not in logged and secret.split(".")[2] not in logged


def test_the_json_subprotocol_is_refused_on_a_text_connection(make_server: ServerFactory) -> None:
    server = make_server()
    offer = ["desafio.v1.json"]
    assert refused_status(f"{server.ws}?format=text", subprotocols=offer) == 400
    json_mode = connect(server.ws, subprotocols=offer)  # format defaults to json with the offer
    assert json_mode.getsubprotocol() == "desafio.v1.json"
    plain = connect(f"{server.ws}?format=text")
    assert plain.getsubprotocol() is None
