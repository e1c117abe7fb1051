"""Accounts against real servers: logout and password changes revoke tokens, admins disable and
delete users, tokens of unknown users are refused, and other instances follow within the bound."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.closecodes import CloseCode
from tests.support.auth import SECRET, SECURED, bearer, close_code, login, refused_status, register
from tests.support.auth import sign as sign_token
from tests.support.clients import JsonClient, connect
from tests.support.server import ROOT, ServerFactory, ServerProcess
from tests.support.waiting import eventually

ADMIN = bearer(sign_token("root", role="admin"))
CACHE = 1.0  # ACCOUNT_CACHE_SECONDS of these servers


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess({**SECURED, "ACCOUNT_CACHE_SECONDS": str(CACHE)}) as proc:
        yield proc


def token_of(server: ServerProcess, username: str, password: str) -> str:
    answer = login(server, username, password)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def history(server: ServerProcess, token: str) -> int:
    return httpx.get(server.http + "/rooms/lobby/messages", headers=bearer(token)).status_code


def test_logout_revokes_every_token_of_the_user_on_http_and_sockets(server: ServerProcess) -> None:
    register(server, "lena", "lena password")
    first, second = (
        token_of(server, "lena", "lena password"),
        token_of(server, "lena", "lena password"),
    )
    socket = JsonClient(server.ws, f"room=lobby&token={second}")
    assert socket.welcome["you"]["guest"] is False and history(server, first) == 200
    answer = httpx.post(server.http + "/auth/logout", headers=bearer(first))
    assert answer.status_code == 204
    assert close_code(socket.ws) == CloseCode.TOKEN_EXPIRED  # the other device is out at once
    assert history(server, first) == 401 and history(server, second) == 401
    assert refused_status(f"{server.ws}?token={second}") == 403
    assert history(server, token_of(server, "lena", "lena password")) == 200  # log in again


def test_a_password_change_revokes_old_tokens_and_checks_the_old_password(
    server: ServerProcess,
) -> None:
    register(server, "paul", "old password")
    old = token_of(server, "paul", "old password")
    url = server.http + "/auth/password"
    wrong = {"old_password": "not it at all", "new_password": "new password"}
    assert httpx.post(url, json=wrong, headers=bearer(old)).status_code == 401
    right = {"old_password": "old password", "new_password": "new password"}
    assert httpx.post(url, json=right, headers=bearer(old)).status_code == 204
    assert history(server, old) == 401
    assert login(server, "paul", "old password").status_code == 401
    assert history(server, token_of(server, "paul", "new password")) == 200


def test_logout_and_password_change_need_an_accounts_own_token(server: ServerProcess) -> None:
    bot = bearer(sign_token("alerts-bot"))
    assert httpx.post(server.http + "/auth/logout", headers=bot).status_code == 401
    assert httpx.post(server.http + "/auth/logout").status_code == 401


def test_an_admin_disables_and_enables_a_user(server: ServerProcess) -> None:
    register(server, "dina", "dina password")
    token = token_of(server, "dina", "dina password")
    socket = JsonClient(server.ws, f"room=lobby&token={token}")
    users = server.http + "/admin/users/dina"
    assert httpx.post(users + "/disable", headers=bearer(token)).status_code == 403  # not admin
    assert httpx.post(users + "/disable", headers=ADMIN).json() == {"closed": 1}
    assert close_code(socket.ws) == CloseCode.TOKEN_EXPIRED
    assert history(server, token) == 401
    assert refused_status(f"{server.ws}?token={token}") == 403
    assert login(server, "dina", "dina password").status_code == 401  # like a wrong password
    assert httpx.post(users + "/enable", headers=ADMIN).status_code == 200
    assert history(server, token_of(server, "dina", "dina password")) == 200
    assert httpx.post(server.http + "/admin/users/nobody/disable", headers=ADMIN).status_code == 404


def test_a_deleted_users_tokens_stay_refused_and_their_name_is_never_given_to_anyone_else(
    server: ServerProcess,
) -> None:
    register(server, "dora", "dora password")
    token = token_of(server, "dora", "dora password")
    assert httpx.delete(server.http + "/admin/users/dora", headers=ADMIN).status_code == 200
    assert history(server, token) == 401
    assert login(server, "dora", "dora password").status_code == 401
    for taker in ("dora", "DORA", "d0ra"):  # someone else would take the name
        register(server, taker, "another password")
        assert login(server, taker, "another password").status_code == 401  # never created
    assert history(server, token) == 401
    assert httpx.post(server.http + "/admin/users/dora/enable", headers=ADMIN).status_code == 404
    assert login(server, "dora", "dora password").status_code == 401
    assert httpx.delete(server.http + "/admin/users/dora", headers=ADMIN).status_code == 404
    register(server, "dorothea", "dorothea password")  # registration itself still works
    assert login(server, "dorothea", "dorothea password").status_code == 200


def test_a_name_freed_by_deletion_does_not_open_the_private_rooms_that_list_it(
    make_server: ServerFactory,
) -> None:
    server = make_server(SECURED)  # its own: registration's budget is untouched
    register(server, "ana", "ana password")  # PRIVATE_ROOMS lists "ana" for "staff"
    staff = httpx.get(
        server.http + "/rooms/staff/messages",
        headers=bearer(token_of(server, "ana", "ana password")),
    )
    assert staff.status_code == 200
    assert httpx.delete(server.http + "/admin/users/ana", headers=ADMIN).status_code == 200
    assert register(server, "ana", "not ana at all").status_code == 201  # as if free
    assert login(server, "ana", "not ana at all").status_code == 401
    # Registration itself still works here: the refusal above was the name's.
    register(server, "another", "another password")
    assert login(server, "another", "another password").status_code == 200


def test_an_admin_revokes_a_users_tokens(server: ServerProcess) -> None:
    register(server, "rita", "rita password")
    token = token_of(server, "rita", "rita password")
    assert httpx.post(server.http + "/admin/users/rita/revoke", headers=ADMIN).status_code == 200
    assert history(server, token) == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"service": False},  # neither an account's token nor a service's: a never-registered user
        {"service": False, "uid": "0123456789abcdef", "ver": 0},  # no such account
    ],
)
def test_tokens_of_users_that_were_never_registered_are_refused(
    server: ServerProcess, claims: dict[str, Any]
) -> None:
    token = sign_token("ghost", **claims)
    assert history(server, token) == 401
    assert refused_status(f"{server.ws}?token={token}") == 403
    ws = connect(f"{server.ws}?format=json")  # a first-frame login is checked the same way
    ws.send(f'{{"type":"auth","token":"{token}"}}')
    assert close_code(ws) == CloseCode.POLICY_VIOLATION


def test_a_service_token_cannot_carry_a_registered_users_name(server: ServerProcess) -> None:
    register(server, "vera", "vera password")
    assert history(server, sign_token("vera")) == 401
    assert history(server, sign_token("not-registered-bot")) == 200


@pytest.mark.parametrize("lookalike", ["VERO", "Vero", "v\u0435ro", "ver0"])
def test_a_service_token_cannot_carry_a_look_alike_of_a_registered_name(
    server: ServerProcess, lookalike: str
) -> None:
    register(server, "vero", "vero password")
    assert history(server, sign_token(lookalike)) == 401


@pytest.mark.parametrize("squatter", ["deploy-bot", "DEPLOY-BOT", "dep1oy-bot"])
def test_a_service_tokens_name_is_kept_so_nobody_registering_it_later_can_pose_as_it_or_stop_it(
    server: ServerProcess, squatter: str
) -> None:
    bot = sign_token("deploy-bot", role="admin")
    assert history(server, bot) == 200
    register(server, squatter, "squatter password")
    assert login(server, squatter, "squatter password").status_code == 401  # never created
    assert history(server, bot) == 200
    assert login(server, "deploy-bot", "!").status_code == 401  # the row that keeps it: no login


def test_an_admin_disabling_a_services_name_refuses_its_tokens(server: ServerProcess) -> None:
    bot = sign_token("report-bot")
    assert history(server, bot) == 200
    assert httpx.post(server.http + "/admin/users/report-bot/disable", headers=ADMIN).is_success
    eventually(lambda: history(server, bot) == 401, timeout=CACHE + 1.0, what="the refusal")


@pytest.mark.parametrize("name", ["Irene", "AlertBot", "x" * 33, "b\u00f6t"])
def test_a_service_tokens_name_must_be_a_username_so_one_key_covers_its_look_alikes(
    server: ServerProcess, name: str
) -> None:
    # "Irene" also reads as "lrene" (a capital I), a key its row could not hold beside "irene";
    # a name over 32 characters could hold no row at all, and so could be taken from it.
    assert history(server, sign_token(name)) == 401
    env = {"PATH": "/usr/bin:/bin", "JWT_SECRET": SECRET, "DATABASE_URL": "none"}
    minted = subprocess.run(
        [sys.executable, "-m", "backend.auth", "token", name],
        cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (minted.returncode, minted.stdout) == (2, b"") and b"username" in minted.stderr


def test_an_admin_revoking_a_service_refuses_its_tokens_until_a_new_one_is_minted(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/revoke.db"
    server = make_server({**SECURED, "DATABASE_URL": database, "ACCOUNT_CACHE_SECONDS": "0.2"})
    env = {"PATH": "/usr/bin:/bin", "JWT_SECRET": SECRET, "DATABASE_URL": database}

    def mint() -> str:
        minted = subprocess.run(
            [sys.executable, "-m", "backend.auth", "token", "pager"],
            cwd=ROOT, env=env, capture_output=True, timeout=60, check=True,
        )  # fmt: skip
        return minted.stdout.decode().strip()

    old = mint()
    assert history(server, old) == 200
    assert httpx.post(server.http + "/admin/users/pager/revoke", headers=ADMIN).is_success
    eventually(lambda: history(server, old) == 401, timeout=3, what="the old token refused")
    assert history(server, mint()) == 200


def test_the_cli_keeps_the_name_it_mints_for_and_refuses_a_users_name(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/accounts.db"
    server = make_server({**SECURED, "DATABASE_URL": database})
    register(server, "ursula", "ursula password")
    env = {"PATH": "/usr/bin:/bin", "JWT_SECRET": SECRET, "DATABASE_URL": database}

    def mint(name: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "backend.auth", "token", name],
            cwd=ROOT, env=env, capture_output=True, timeout=60,
        )  # fmt: skip

    for taken in ("ursula", "ursu1a"):
        refused = mint(taken)
        assert (refused.returncode, refused.stdout) == (1, b""), refused.stderr
        assert b"user's name" in refused.stderr
    minted = mint("nightly-bot")
    assert minted.returncode == 0, minted.stderr
    # Kept before its first use: registering it now creates nothing, and no guest may take it.
    register(server, "nightly-bot", "squatter password")
    assert login(server, "nightly-bot", "squatter password").status_code == 401
    assert history(server, minted.stdout.decode().strip()) == 200
    guests = make_server({**SECURED, "AUTH_REQUIRED": "false", "DATABASE_URL": database})
    assert refused_status(f"{guests.ws}?name=Nightly-Bot&room=lobby") == 400


# A time bound: two cache periods.
@pytest.mark.serial
def test_other_instances_refuse_a_disabled_user_within_the_cache_bound(
    make_server: ServerFactory,
) -> None:
    shared = {**SECURED, "ACCOUNT_CACHE_SECONDS": str(CACHE)}
    a = make_server(shared)
    b = make_server({**shared, "DATABASE_URL": a.env["DATABASE_URL"]})
    register(a, "nina", "nina password")
    token = token_of(a, "nina", "nina password")
    socket = JsonClient(b.ws, f"room=lobby&token={token}")
    assert history(b, token) == 200
    started = time.monotonic()
    assert httpx.post(a.http + "/admin/users/nina/disable", headers=ADMIN).status_code == 200
    eventually(lambda: history(b, token) == 401, timeout=CACHE + 1.0, what="B refusing the token")
    assert close_code(socket.ws) == CloseCode.TOKEN_EXPIRED
    # Documented bound for open sockets: two cache periods (the sweep reads through the cache).
    assert time.monotonic() - started < 2 * CACHE + 1.0


@pytest.mark.parametrize("secret", ["", "a" * 36])
def test_the_cli_refuses_to_mint_without_the_servers_secret(secret: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "JWT_SECRET": secret, "DATABASE_URL": "none"}
    minted = subprocess.run(
        [sys.executable, "-m", "backend.auth", "token", "bot"],
        cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert minted.returncode != 0
    assert minted.stdout == b"" and b"JWT_SECRET" in minted.stderr


def test_the_cli_mints_a_service_token_with_the_servers_secret(server: ServerProcess) -> None:
    env = {"PATH": "/usr/bin:/bin", "JWT_SECRET": SECRET, "DATABASE_URL": "none"}
    minted = subprocess.run(
        [sys.executable, "-m", "backend.auth", "token", "ci-bot"],
        cwd=ROOT, env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert history(server, minted.stdout.decode().strip()) == 200
