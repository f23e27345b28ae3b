"""The token bucket and the per-key limiter ingest builds on it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.domain.rate_limit import SLACK_SECONDS, TokenBucket
from services.ingest.rate_limit import KeyRateLimiter, RateLimited

rates = st.floats(min_value=0.01, max_value=1e6)
bursts = st.floats(min_value=1, max_value=1e6)
# A request: seconds since the previous one, and its cost as a fraction of the burst.
requests = st.lists(
    st.tuples(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=1)),
    max_size=50,
)


def test_a_full_bucket_pays_its_burst_then_names_the_wait() -> None:
    bucket = TokenBucket.full(rate=10, burst=20, now=0)

    assert bucket.take(20, now=0) == 0
    assert bucket.take(5, now=0) == pytest.approx(0.5)
    assert bucket.take(5, now=0.5) == 0


def test_a_refused_request_takes_nothing() -> None:
    bucket = TokenBucket.full(rate=1, burst=10, now=0)
    bucket.take(8, now=0)

    assert bucket.take(5, now=0) == pytest.approx(3)
    assert bucket.take(2, now=0) == 0


def test_tokens_never_exceed_the_burst_and_a_clock_stepping_back_adds_none() -> None:
    bucket = TokenBucket.full(rate=100, burst=10, now=0)
    bucket.take(10, now=0)

    assert bucket.wait(10, now=1_000) == 0
    assert bucket.take(10, now=999) == 0
    assert bucket.take(1, now=999) > 0


def test_impossible_costs_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        TokenBucket.full(rate=1, burst=5, now=0).take(6, now=0)
    with pytest.raises(ValueError, match="positive"):
        TokenBucket.full(rate=0, burst=5, now=0)


@given(rates, bursts, requests)
def test_accepted_cost_never_exceeds_burst_plus_rate_times_time(
    rate: float, burst: float, timeline: list[tuple[float, float]]
) -> None:
    bucket = TokenBucket.full(rate, burst, now=0)
    now = accepted = 0.0
    for gap, share in timeline:
        now += gap
        cost = share * burst
        if bucket.take(cost, now) == 0:
            accepted += cost
    slack = len(timeline) * SLACK_SECONDS
    assert accepted <= burst + rate * (now + slack) + 1e-9 * accepted


@given(rates, bursts, requests, st.floats(min_value=0, max_value=1))
def test_waiting_the_time_named_is_enough(
    rate: float, burst: float, timeline: list[tuple[float, float]], share: float
) -> None:
    bucket = TokenBucket.full(rate, burst, now=0)
    now = 0.0
    for gap, spent in timeline:
        now += gap
        bucket.take(spent * burst, now)
    cost = share * burst
    wait = bucket.wait(cost, now)
    assert wait >= 0
    assert bucket.take(cost, now + wait) == 0


def test_each_key_has_its_own_bucket_and_retry_after_is_whole_seconds() -> None:
    clock = [0.0]
    limiter = KeyRateLimiter(rate=4, burst=10, clock=lambda: clock[0])
    limiter.charge("a", 10)

    with pytest.raises(RateLimited) as refused:
        limiter.charge("a", 1)
    with pytest.raises(RateLimited):
        limiter.admit("a")
    limiter.charge("b", 10)
    clock[0] = 0.1
    with pytest.raises(RateLimited) as later:
        limiter.charge("a", 5)

    assert refused.value.retry_after == 1
    assert later.value.retry_after == 2
    clock[0] = 0.1 + later.value.retry_after
    limiter.charge("a", 5)


def test_a_request_costs_at_least_one_token() -> None:
    limiter = KeyRateLimiter(rate=1, burst=1, clock=lambda: 0.0)
    limiter.charge("a", 0)

    with pytest.raises(RateLimited):
        limiter.admit("a")
