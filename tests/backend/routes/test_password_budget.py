"""Password hashing within a budget, against a real server: a concurrency-safe login limiter,
bounded Argon2 work with a bounded queue, and registrations per address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.auth import SECURED, login, register
from tests.support.server import ServerFactory


def test_thirty_concurrent_wrong_passwords_mostly_get_429_not_401(
    make_server: ServerFactory,
) -> None:
    server = make_server({**SECURED, "LOGIN_FAILURES_PER_ADDRESS": "1000"})
    register(server, "tess", "the right one")
    with ThreadPoolExecutor(30) as pool:
        statuses = list(
            pool.map(lambda n: login(server, "tess", f"guess {n}").status_code, range(30))
        )
    # Attempts are counted before Argon2 runs: at most LOGIN_FAILURES_PER_USER (5) are checked.
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 25, statuses


def test_argon2_work_beyond_its_slots_and_queue_is_refused_with_503(
    make_server: ServerFactory,
) -> None:
    server = make_server(
        {
            **SECURED,
            "PASSWORD_HASH_CONCURRENCY": "1",
            "PASSWORD_HASH_QUEUE": "1",
            "LOGIN_FAILURES_PER_ADDRESS": "1000",
        }
    )
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda n: login(server, f"user{n}", "some password"), range(12)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 503}, statuses
    busy = [a for a in answers if a.status_code == 503]
    assert busy and all(int(a.headers["Retry-After"]) > 0 for a in busy), statuses
    assert statuses.count(401) >= 2  # the slot and the queue place were used
    assert login(server, "user0", "some password").status_code == 401  # and freed again


def test_registrations_are_limited_per_address(make_server: ServerFactory) -> None:
    server = make_server({**SECURED, "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "2"})
    assert register(server, "reg1", "password1").status_code == 201
    assert register(server, "reg2", "password2").status_code == 201
    limited = register(server, "reg3", "password3")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert login(server, "reg3", "password3").status_code == 401  # it was not created
    assert httpx.get(server.http + "/auth/config").status_code == 200
