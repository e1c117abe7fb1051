"""Login and registration limiting: per username and address, counted before the answer."""

from __future__ import annotations

from backend.auth.ratelimit import LoginLimiter, RegistrationLimiter, Window


def test_a_key_may_fail_up_to_the_limit_then_waits_until_the_oldest_failure_ages_out() -> None:
    window = Window(limit=3, seconds=60)
    for t in (0.0, 1.0, 2.0):
        assert window.retry_after("ana", t) == 0
        window.fail("ana", t)
    assert window.retry_after("ana", 2.0) == 58.0
    assert window.retry_after("bob", 2.0) == 0  # others are not affected
    assert window.retry_after("ana", 60.0) == 0  # the first failure has aged out


def test_the_address_limit_holds_across_usernames_and_success_clears_only_the_user() -> None:
    limiter = LoginLimiter(per_user=10, per_address=3, seconds=60)
    assert limiter.attempt("ana", "10.0.0.1")[0] == 0
    assert limiter.attempt("bob", "10.0.0.1")[0] == 0
    wait, stamp = limiter.attempt("ana", "10.0.0.1")
    assert wait == 0
    assert limiter.attempt("carol", "10.0.0.1")[0] > 0
    assert limiter.attempt("carol", "10.0.0.2")[0] == 0
    limiter.succeeded("ana", "10.0.0.1", stamp)  # the right password: this attempt is forgiven
    assert limiter.attempt("ana", "10.0.0.1")[0] == 0  # one slot free again
    assert limiter.attempt("ana", "10.0.0.1")[0] > 0  # the two failures still count


def test_attempts_are_counted_before_any_answer_so_a_burst_cannot_pass_the_limit() -> None:
    limiter = LoginLimiter(per_user=5, per_address=100, seconds=60)
    # 30 attempts arriving together, none answered yet: only the first five may go ahead.
    waits = [limiter.attempt("ana", f"10.0.0.{n}")[0] for n in range(30)]
    assert waits[:5] == [0] * 5
    assert all(wait > 0 for wait in waits[5:])


def test_registrations_are_limited_per_address_and_in_total() -> None:
    limiter = RegistrationLimiter(per_address=2, total=3)
    assert limiter.attempt("10.0.0.1") == 0
    assert limiter.attempt("10.0.0.1") == 0
    assert limiter.attempt("10.0.0.1") > 0
    assert limiter.attempt("10.0.0.2") == 0
    assert limiter.attempt("10.0.0.3") > 0  # the total is spent
