"""Login and registration limiting: per username and address, counted before the answer."""

from __future__ import annotations

import random
import tracemalloc
from collections import OrderedDict

from backend.auth.ratelimit import MAX_KEYS, LoginLimiter, RegistrationLimiter, Window


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


def test_both_limiters_filled_past_their_caps_hold_under_eight_mib() -> None:
    # A new username from a new address per attempt (an attacker with many addresses) used to
    # keep about 1.9 KB per key, 179 MiB at the cap; docs/security.md "Budgets" states 8 MiB.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        logins = LoginLimiter(per_user=5, per_address=20, seconds=300)
        registrations = RegistrationLimiter(per_address=20, total=500)
        for n in range(MAX_KEYS + 10):
            address = f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::1"
            assert logins.attempt(f"user{n:08d}".ljust(32, "x"), address)[0] == 0
        for n in range(1010):  # past the total, addresses are refused without being counted
            registrations.attempt(f"2001:db8::{n:x}")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(logins.users) == len(logins.addresses) == MAX_KEYS
    assert held <= 8 * 2**20


def test_keys_are_dropped_oldest_first_as_new_ones_arrive_once_their_window_closes() -> None:
    window = Window(limit=3, seconds=60, capacity=10)
    window.fail("ana", 0.0)
    window.fail("bob", 10.0)
    window.fail("carol", 30.0)
    window.fail("dan", 65.0)  # ana's window closed at 60: nobody has to ask about ana again
    assert len(window) == 3
    window.fail("erin", 90.0)
    assert len(window) == 2  # bob and carol too


def test_at_the_cap_the_window_closing_soonest_goes_so_a_blocked_key_outlives_a_spray() -> None:
    window = Window(limit=2, seconds=60, capacity=3)
    window.fail("junk0", 0.0)
    window.fail("victim", 1.0)
    window.fail("victim", 2.0)
    window.fail("junk1", 3.0)
    window.fail("junk2", 4.0)  # full: junk0 is forgotten, not the victim
    assert window.retry_after("victim", 5.0) == 56.0
    assert window.retry_after("junk0", 5.0) == 0
    # Only `capacity` keys opened after the victim's window push it out.
    window.fail("junk3", 5.0)
    assert window.retry_after("victim", 6.0) == 0


def test_a_login_the_hash_budget_refused_is_taken_back_and_leaves_no_key() -> None:
    limiter = LoginLimiter(per_user=2, per_address=2, seconds=60)
    for _ in range(5):
        wait, stamp = limiter.attempt("ana", "10.0.0.1")
        assert wait == 0
        limiter.refused("ana", "10.0.0.1", stamp)  # answered 503: the password was not checked
    assert len(limiter.users) == len(limiter.addresses) == 0
    assert limiter.attempt("ana", "10.0.0.1")[0] == 0
    assert limiter.attempt("ana", "10.0.0.1")[0] == 0
    assert limiter.attempt("ana", "10.0.0.1")[0] > 0


def test_a_closed_window_opens_a_fresh_one_with_the_whole_limit() -> None:
    window = Window(limit=2, seconds=60)
    window.fail("ana", 0.0)
    window.fail("ana", 1.0)
    assert window.retry_after("ana", 59.0) == 1.0
    assert window.retry_after("ana", 60.0) == 0
    window.fail("ana", 60.0)
    assert window.retry_after("ana", 60.5) == 0
    window.fail("ana", 61.0)
    assert window.retry_after("ana", 61.0) == 59.0


def test_the_window_agrees_with_a_plain_model_through_random_fails_clears_and_evictions() -> None:
    # A tiny table makes probe runs collide and shift on nearly every removal; about as many
    # keys are evicted at the cap as expire.
    limit, seconds, capacity = 3, 10.0, 16
    window = Window(limit, seconds, capacity)
    model: OrderedDict[str, list[float]] = OrderedDict()  # key -> [start, count], oldest first
    rng = random.Random(7)
    now = 0.0
    for _ in range(20_000):
        now += rng.choice((0.0, 0.01, 0.05, 1.0))
        key, action = f"k{rng.randrange(100)}", rng.random()
        if action < 0.5:
            while model and next(iter(model.values()))[0] + seconds <= now:
                model.popitem(last=False)
            if key in model:
                model[key][1] += 1
            else:
                if len(model) == capacity:
                    model.popitem(last=False)
                model[key] = [now, 1]
            window.fail(key, now)
        elif action < 0.6:
            model.pop(key, None)
            window.clear(key)
        elif action < 0.7:
            stamp = now - rng.choice((0.0, 5.0))
            if key in model and stamp >= model[key][0]:
                model[key][1] -= 1
                if model[key][1] == 0:
                    del model[key]
            window.undo(key, stamp)
        start, count = model.get(key, (0.0, 0))
        expected = max(0.0, start + seconds - now) if count >= limit else 0.0
        assert window.retry_after(key, now) == expected
        assert len(window) == len(model)
