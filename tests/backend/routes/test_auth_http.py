"""/auth over HTTP against a real server: register, log in, rules, brute force, history access."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.support.auth import SECURED, bearer, login, register, sign
from tests.support.server import ROOT, ServerFactory, ServerProcess


def test_a_user_registers_logs_in_and_gets_a_bearer_token(make_server: ServerFactory) -> None:
    server = make_server(SECURED)
    assert httpx.get(server.http + "/auth/config").json() == {
        "auth_required": True,
        "registration_open": True,
    }
    created = register(server, "Ana", "correct horse")
    assert created.status_code == 201
    assert created.json()["username"] == "ana"
    answer = login(server, "ANA", "correct horse")  # names are case-insensitive
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = httpx.get(server.http + "/rooms/lobby/messages", headers=bearer(body["access_token"]))
    assert me.status_code == 200


def test_a_taken_name_answers_like_a_free_one_and_bad_names_or_passwords_get_422(
    make_server: ServerFactory,
) -> None:
    server = make_server(SECURED)
    free = register(server, "bob", "password1")
    taken = register(server, "BOB", "password2")
    lookalike = register(server, "b0b", "password3")  # "0" reads as "o"
    # No enumeration: the same status and body whether or not the name was free.
    assert (free.status_code, free.json()) == (taken.status_code, taken.json())
    assert free.status_code == 201 and free.json()["username"] == "bob"
    assert lookalike.status_code == 201
    # Only logging in tells, and only the password's owner gets in.
    assert login(server, "bob", "password1").status_code == 200
    assert login(server, "bob", "password2").status_code == 401
    assert login(server, "b0b", "password3").status_code == 401  # never created
    for username, password in [
        ("b" * 33, "password1"),  # oversized username
        ("no spaces", "password1"),
        ("ab", "password1"),
        ("carol", "Qz7#k"),
        ("carol", "p" * 129),  # oversized password
    ]:
        refused = register(server, username, password)
        assert refused.status_code == 422, (username, refused.text)
        assert password not in refused.text  # errors never echo a password back
    assert login(server, "bob", "p" * 129).status_code == 422


def test_wrong_credentials_get_401_whether_or_not_the_user_exists(
    make_server: ServerFactory,
) -> None:
    server = make_server(SECURED)
    register(server, "dave", "right password")
    for username in ("dave", "nobody"):
        refused = login(server, username, "wrong password")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert "access_token" not in refused.text


def test_brute_force_on_a_username_is_rate_limited_with_retry_after(
    make_server: ServerFactory,
) -> None:
    server = make_server({**SECURED, "LOGIN_FAILURES_PER_USER": "3"})
    register(server, "erin", "right password")
    statuses = [login(server, "erin", f"guess {n}").status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    limited = login(server, "erin", "right password")  # even the right one must wait now
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 300
    assert login(server, "frank", "anything at all").status_code == 401  # others unaffected


def test_guessing_across_usernames_is_limited_per_client_address(
    make_server: ServerFactory,
) -> None:
    server = make_server({**SECURED, "LOGIN_FAILURES_PER_ADDRESS": "4"})
    statuses = [login(server, f"user{n}", "guess guess").status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


def test_registration_can_be_closed(make_server: ServerFactory) -> None:
    server = make_server({**SECURED, "REGISTRATION_OPEN": "false"})
    assert httpx.get(server.http + "/auth/config").json()["registration_open"] is False
    assert register(server, "gina", "password1").status_code == 403


def test_without_auth_required_clients_are_told_no_login_is_needed(server: ServerProcess) -> None:
    assert httpx.get(server.http + "/auth/config").json()["auth_required"] is False
    assert httpx.get(server.http + "/rooms/lobby/messages").status_code == 200


def test_history_needs_a_token_that_may_read_the_room(make_server: ServerFactory) -> None:
    server = make_server(SECURED)
    url = server.http + "/rooms/{}/messages"
    assert httpx.get(url.format("lobby")).status_code == 401
    assert (
        httpx.get(url.format("lobby"), headers=bearer(sign("x", secret="x" * 40))).status_code
        == 401
    )
    assert httpx.get(url.format("lobby"), headers=bearer(sign("bob"))).status_code == 200
    assert httpx.get(url.format("staff"), headers=bearer(sign("bob"))).status_code == 403
    assert httpx.get(url.format("staff"), headers=bearer(sign("ana"))).status_code == 200
    narrow = bearer(sign("ana", rooms=["lobby"]))
    assert httpx.get(url.format("staff"), headers=narrow).status_code == 403


def test_a_private_room_history_needs_a_token_even_without_auth_required(
    make_server: ServerFactory,
) -> None:
    server = make_server({"PRIVATE_ROOMS": SECURED["PRIVATE_ROOMS"]})
    assert httpx.get(server.http + "/rooms/staff/messages").status_code == 401
    assert httpx.get(server.http + "/rooms/lobby/messages").status_code == 200


def test_the_server_refuses_to_start_with_auth_required_and_a_weak_secret() -> None:
    proc = ServerProcess({"AUTH_REQUIRED": "true", "JWT_SECRET": "change-me"})
    try:
        started = subprocess.run(
            [sys.executable, "-m", "backend"], cwd=ROOT, env=proc.env, capture_output=True,
            timeout=60,
        )  # fmt: skip
    finally:
        proc.stop()
    assert started.returncode != 0
    assert b"JWT_SECRET" in started.stderr and b"change-me" not in started.stderr
