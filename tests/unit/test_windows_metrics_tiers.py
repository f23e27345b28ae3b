"""Event-time buckets and windows, metric formulas and follower tiers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain import metrics
from services.domain.tiers import DEFAULT_TIER_BOUNDS, tier_of
from services.domain.windows import (
    BLOCK,
    DAY,
    HOUR,
    HOURLY_HORIZON,
    WINDOWS,
    Window,
    block_start,
    bucket_key,
    bucket_start,
    hourly_from,
    in_window,
)

FAST = settings(max_examples=200, deadline=None)
times = st.one_of(
    st.integers(min_value=0, max_value=4_000_000_000),
    st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False),
)
windows = st.one_of(
    st.sampled_from(WINDOWS),
    st.integers(min_value=1, max_value=24 * 90).map(lambda hours: Window("any", hours * HOUR)),
)


@FAST
@given(times)
def test_a_time_lies_in_its_hour_bucket(at: float) -> None:
    start = bucket_start(at)
    assert isinstance(start, int)
    assert start % HOUR == 0
    assert start <= at < start + HOUR


@pytest.mark.parametrize(
    ("at", "start"), [(0, 0), (3599.999, 0), (3600, 3600), (7199, 3600), (1.5 * DAY, 1.5 * DAY)]
)
def test_bucket_start_examples(at: float, start: int) -> None:
    assert bucket_start(at) == start


@FAST
@given(windows, times)
def test_window_bounds_span_its_length_and_end_after_the_given_time(
    window: Window, end: float
) -> None:
    start, stop = window.bounds(end)
    assert stop % HOUR == 0
    assert start % HOUR == 0
    assert end < stop <= end + HOUR
    assert stop - HOUR == bucket_start(end)
    if stop - window.length >= hourly_from(end):
        assert stop - start == window.length
    else:
        assert start % BLOCK == 0
        assert window.length - BLOCK < stop - start <= window.length


@FAST
@given(times, times)
def test_a_bucket_is_its_hour_within_the_horizon_and_its_block_beyond(
    at: float, watermark: float
) -> None:
    key = bucket_key(at, watermark)
    assert key <= at
    if bucket_start(at) >= hourly_from(watermark):
        assert key == bucket_start(at)
    else:
        assert key == block_start(at)
        assert watermark - key > HOURLY_HORIZON


def test_the_standard_windows_are_a_day_and_a_week() -> None:
    assert [(w.name, w.length) for w in WINDOWS] == [("24h", DAY), ("7d", 7 * DAY)]


def test_a_window_ending_mid_hour_includes_that_hour() -> None:
    assert Window("24h", DAY).bounds(10 * DAY + 1_800) == (9 * DAY + HOUR, 10 * DAY + HOUR)


def test_in_window_is_half_open() -> None:
    buckets = {0: "a", HOUR: "b", 2 * HOUR: "c", 3 * HOUR: "d"}
    assert list(in_window(buckets, HOUR, 3 * HOUR)) == ["b", "c"]
    assert list(in_window(buckets, 5 * HOUR, 6 * HOUR)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (metrics.ratio(3, 0), None),
        (metrics.ratio(0, 0), None),
        (metrics.ratio(0, 4), 0.0),
        (metrics.ratio(3, 4), 0.75),
        (metrics.engagement_rate_by_views(50, 0), None),
        (metrics.engagement_rate_by_views(50, 1_000), 0.05),
        (metrics.cpe(10.0, 0), None),
        (metrics.cpe(10.0, 40), 0.25),
        (metrics.cpm(10.0, 0), None),
        (metrics.cpm(10.0, 20_000), 0.5),
        (metrics.click_through_rate(5, 0), None),
        (metrics.click_through_rate(5, 500), 0.01),
        (metrics.cac(100.0, 0), None),
        (metrics.cac(100.0, 4), 25.0),
        (metrics.cac(0.0, 4), 0.0),
        (metrics.roas(300.0, 0.0), None),
        (metrics.roas(300.0, 100.0), 3.0),
        (metrics.roas(0.0, 100.0), 0.0),
    ],
)
def test_ratios_are_none_when_the_denominator_is_zero(
    value: float | None, expected: float | None
) -> None:
    assert value == expected


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ([0.1, 0.3], 0.2),
        ([0.1, None, 0.3, None], 0.2),
        ([None, 0.04], 0.04),
        ([0.0, 0.0], 0.0),
        ([None, None], None),
        ([], None),
    ],
)
def test_engagement_rate_by_followers_is_the_mean_over_posts_ignoring_unknowns(
    rates: list[float | None], expected: float | None
) -> None:
    assert metrics.engagement_rate_by_followers(rates) == pytest.approx(expected)


@FAST
@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=10))))
def test_engagement_rate_by_followers_lies_between_the_known_rates(
    rates: list[float | None],
) -> None:
    known = [r for r in rates if r is not None]
    mean = metrics.engagement_rate_by_followers(iter(rates))
    if known:
        assert mean is not None
        assert min(known) - 1e-9 <= mean <= max(known) + 1e-9
    else:
        assert mean is None


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (9_999, "nano"),
        (10_000, "micro"),
        (49_999, "micro"),
        (50_000, "mid"),
        (499_999, "mid"),
        (500_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
        (10**12, "mega"),
    ],
)
def test_default_tiers_at_their_boundaries(followers: int, tier: str) -> None:
    assert tier_of(followers) == tier


CUSTOM = (("small", 100), ("medium", 5_000), ("large", 100_000))


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "small"),
        (100, "small"),
        (4_999, "small"),
        (5_000, "medium"),
        (99_999, "medium"),
        (100_000, "large"),
    ],
)
def test_custom_tier_bounds(followers: int, tier: str) -> None:
    assert tier_of(followers, CUSTOM) == tier


@FAST
@given(
    st.sampled_from([DEFAULT_TIER_BOUNDS, CUSTOM]),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_tiers_grow_with_followers(
    bounds: tuple[tuple[str, int], ...], fewer: int, more: int
) -> None:
    fewer, more = sorted((fewer, more))
    order = [name for name, _ in bounds]
    assert order.index(tier_of(fewer, bounds)) <= order.index(tier_of(more, bounds))
