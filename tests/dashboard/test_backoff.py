"""Backoff delays grow to a cap, carry jitter, and start over after a success."""

from __future__ import annotations

from dashboard.backoff import Backoff


def test_backoff_doubles_up_to_the_maximum_without_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, rng=lambda: 0.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_shortens_a_delay_by_at_most_its_share() -> None:
    backoff = Backoff(initial=1.0, jitter=0.2, rng=lambda: 1.0)
    assert backoff.next() == 0.8


def test_backoff_starts_over_after_a_reset() -> None:
    backoff = Backoff(initial=0.5, rng=lambda: 0.0)
    backoff.next()
    backoff.next()
    backoff.reset()
    assert backoff.next() == 0.5
