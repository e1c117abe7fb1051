"""The token bucket allows bursts, then the steady rate."""

from backend.hub.ratelimit import TokenBucket


def test_bucket_allows_the_burst_then_refuses_until_it_refills() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    start = 1000.0
    bucket._stamp = start
    assert [bucket.allow(start) for _ in range(4)] == [True, True, True, False]
    assert bucket.allow(start + 0.25) is False  # half a token
    assert bucket.allow(start + 0.5) is True
    assert bucket.allow(start + 100) is True  # refill is capped at the burst
    assert sum(bucket.allow(start + 100) for _ in range(5)) == 2
