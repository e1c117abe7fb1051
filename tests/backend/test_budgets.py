"""backend.budgets: counting in total and per address, trusted proxies, buckets, the tally."""

from __future__ import annotations

import logging

import pytest

from backend.budgets import Bucket, Occupancy, Place, Proxies, RequestRates, Tally


def test_occupancy_refuses_past_the_total_with_503_and_past_an_address_with_429() -> None:
    room = Occupancy(max_total=3, max_per_address=2)
    assert room.enter("10.0.0.1") is None
    assert room.enter("10.0.0.1") is None
    assert room.enter("10.0.0.1") == (
        429,
        "too_many_connections",
        "at most 2 connections per address",
    )
    assert room.enter("10.0.0.2") is None
    refused = room.enter("10.0.0.3")
    assert refused is not None and refused[0] == 503
    assert room.total == 3  # refusals are not counted


def test_occupancy_forgets_an_address_with_nobody_in() -> None:
    room = Occupancy(max_total=10, max_per_address=10)
    for n in range(5):
        room.enter(f"10.0.0.{n}")
    for n in range(5):
        room.leave(f"10.0.0.{n}")
    assert room.total == 0
    assert room.by_address == {}


def test_a_place_is_given_back_once_however_often_it_is_released() -> None:
    room = Occupancy(max_total=10, max_per_address=10)
    room.enter("10.0.0.1")
    room.enter("10.0.0.1")
    place = Place(room, "10.0.0.1")
    place()
    place()  # a socket lost twice, or ended by two paths, must not free someone else's place
    assert room.total == 1
    assert room.by_address == {"10.0.0.1": 1}


@pytest.mark.parametrize(
    ("spec", "address", "trusted"),
    [
        ("127.0.0.1,::1", "127.0.0.1", True),
        ("127.0.0.1,::1", "::1", True),
        ("127.0.0.1,::1", "127.0.0.2", False),
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "11.0.0.1", False),
        ("*", "203.0.113.9", True),
        ("", "127.0.0.1", False),
        ("127.0.0.1", None, False),
        ("127.0.0.1", "not-an-address", False),
    ],
)
def test_proxies_are_addresses_networks_or_anyone(
    spec: str, address: str | None, trusted: bool
) -> None:
    assert Proxies(spec).trusted(address) is trusted


def test_a_trusted_proxy_is_not_limited_per_address() -> None:
    room = Occupancy(max_total=10, max_per_address=1, exempt=Proxies("127.0.0.1"))
    assert [room.enter("127.0.0.1") for _ in range(3)] == [None, None, None]
    assert room.enter("127.0.0.2") is None
    assert room.enter("127.0.0.2") is not None


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = Bucket(rate=1000.0, burst=5)
    assert all(bucket.allow() for _ in range(5))
    assert not bucket.allow()
    assert not bucket.allow(10)  # more than the burst never fits


def test_spending_into_debt_says_how_long_until_it_is_paid() -> None:
    bucket = Bucket(rate=100.0, burst=100)
    assert bucket.spend(50) == 0.0
    assert bucket.spend(150) == pytest.approx(1.0, abs=0.05)  # 100 in debt at 100/s


def test_the_tally_logs_one_summary_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    tally = Tally(logging.getLogger("test.tally"), every=3600)
    with caplog.at_level(logging.WARNING, "test.tally"):
        for _ in range(100):
            tally.add("503 unavailable")
    assert len(caplog.records) == 1  # the first one; the other 99 wait for the next report
    assert "503 unavailable x1" in caplog.records[0].getMessage()
    assert tally.counts["503 unavailable"] == 99


def test_request_rates_are_per_address_and_keep_a_bounded_number_of_addresses() -> None:
    rates = RequestRates(rate=0.001, burst=2, keep=3)
    assert [rates.allow("a") for _ in range(3)] == [True, True, False]
    assert rates.allow("b")  # another address has its own budget
    for address in ("c", "d", "e"):
        rates.allow(address)
    assert len(rates.buckets) == 3
    assert "a" not in rates.buckets  # the least recently seen was forgotten
