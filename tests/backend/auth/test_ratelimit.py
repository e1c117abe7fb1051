"""Login limiting: failures per username and per address, a wait that ends, success forgiven."""

from __future__ import annotations

from backend.auth.ratelimit import LoginLimiter, Window


def test_a_key_may_fail_up_to_the_limit_then_waits_until_the_oldest_failure_ages_out() -> None:
    window = Window(limit=3, seconds=60)
    for t in (0.0, 1.0, 2.0):
        assert window.retry_after("ana", t) == 0
        window.fail("ana", t)
    assert window.retry_after("ana", 2.0) == 58.0
    assert window.retry_after("bob", 2.0) == 0  # others are not affected
    assert window.retry_after("ana", 60.0) == 0  # the first failure has aged out


def test_the_address_limit_holds_across_usernames_and_success_clears_only_the_user() -> None:
    limiter = LoginLimiter(per_user=10, per_address=2, seconds=60)
    limiter.failed("ana", "10.0.0.1")
    limiter.failed("bob", "10.0.0.1")
    assert limiter.retry_after("carol", "10.0.0.1") > 0
    assert limiter.retry_after("carol", "10.0.0.2") == 0
    limiter.succeeded("ana")
    assert limiter.retry_after("ana", "10.0.0.1") > 0  # the address still waits
