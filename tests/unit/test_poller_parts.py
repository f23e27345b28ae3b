"""The poller's pure parts: the schedule, post references, Retry-After, backoff, the limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.domain.post_refs import Platform, PostReferenceError, post_id_from
from services.poller.client import RetryPolicy, retry_after_seconds
from services.poller.rate_limit import PlatformLimiter
from services.poller.schedule import DEFAULT_SCHEDULE, PollSchedule
from tests.fakes.clock import SteppedClock

POSTED = datetime(2026, 5, 1, 8, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("age", "every"),
    [
        (timedelta(0), 15 * MINUTE),
        (DAY - MINUTE, 15 * MINUTE),
        (DAY, HOUR),
        (7 * DAY - MINUTE, HOUR),
        (7 * DAY, 6 * HOUR),
        (30 * DAY - MINUTE, 6 * HOUR),
        (30 * DAY, None),
        (400 * DAY, None),
    ],
)
def test_the_default_schedule_slows_as_a_post_ages_then_stops(
    age: timedelta, every: timedelta | None
) -> None:
    schedule = PollSchedule.parse(DEFAULT_SCHEDULE)
    assert schedule.interval(age) == every
    expected = None if every is None else POSTED + age + every
    assert schedule.next_poll(POSTED, POSTED + age) == expected


def test_a_post_not_live_yet_is_next_polled_when_it_goes_live() -> None:
    schedule = PollSchedule.parse(DEFAULT_SCHEDULE)
    assert schedule.next_poll(POSTED, POSTED - HOUR) == POSTED


def test_a_schedule_is_configurable() -> None:
    schedule = PollSchedule.parse("6h=5m, 2d=90s")
    assert schedule.interval(5 * HOUR) == 5 * MINUTE
    assert schedule.interval(DAY) == timedelta(seconds=90)
    assert schedule.stops_at == 2 * DAY


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1d", "AGE=INTERVAL"),
        ("1d=15x", "not a duration"),
        ("7d=1h,1d=15m", "must grow"),
        ("1d=0m", "must be positive"),
    ],
)
def test_a_bad_schedule_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        PollSchedule.parse(text)


@pytest.mark.parametrize(
    ("platform", "reference", "post_id"),
    [
        ("tiktok", "7311234567890123456", "7311234567890123456"),
        (
            "tiktok",
            "https://www.tiktok.example/@ana.makes/video/7311234567890123456",
            "7311234567890123456",
        ),
        (
            "tiktok",
            "https://m.tiktok.example/v/7311234567890123456.html?lang=en",
            "7311234567890123456",
        ),
        ("youtube", "dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("youtube", "-s-_Mh1QhMc", "-s-_Mh1QhMc"),
        ("youtube", "https://www.youtube.example/watch?v=dQw4w9WgXcQ&t=42s", "dQw4w9WgXcQ"),
        ("youtube", "https://short.youtube.example/-s-_Mh1QhMc?si=abc", "-s-_Mh1QhMc"),
        ("youtube", "https://www.youtube.example/shorts/_abcdefghij", "_abcdefghij"),
        ("youtube", "https://www.youtube.example/embed/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("youtube", "https://www.youtube.example/live/dQw4w9WgXcQ/", "dQw4w9WgXcQ"),
        ("instagram", " 17895695668004550 ", "17895695668004550"),
    ],
)
def test_ids_and_urls_name_the_post(platform: Platform, reference: str, post_id: str) -> None:
    assert post_id_from(platform, reference) == post_id


@pytest.mark.parametrize(
    ("platform", "reference", "reason"),
    [
        ("instagram", "https://www.instagram.example/p/C1a2b3c4d5E/", "shortcode"),
        ("instagram", "C1a2b3c4d5E", "string of digits"),
        ("tiktok", "https://vm.tiktok.example/ZMabc123/", "short share link"),
        ("tiktok", "https://www.tiktok.example/@ana.makes", "/@user/video/ID"),
        ("tiktok", "abc", "string of digits"),
        ("tiktok", f"https://www.tiktok.example/@ana/video/{'1' * 40}", "/@user/video/ID"),
        ("youtube", "https://www.youtube.example/watch?v=short", "11-character"),
        (
            "youtube",
            "https://www.youtube.example/channel/UCabcdefghijklmnopqrstuv",
            "not a YouTube",
        ),
        ("youtube", "dQw4w9WgXc", "11 characters"),
        ("youtube", "   ", "is empty"),
    ],
)
def test_what_names_no_post_is_refused_with_the_reason(
    platform: Platform, reference: str, reason: str
) -> None:
    with pytest.raises(PostReferenceError, match=reason):
        post_id_from(platform, reference)


NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),
        (" 0 ", 0.0),
        ("Fri, 01 May 2026 12:02:00 GMT", 120.0),
        ("Fri, 01 May 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_a_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(max_attempts=6, initial_seconds=1.0, max_seconds=5.0)
    assert [policy.backoff(n, 0.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert [policy.backoff(n, 0.999999) for n in range(1, 4)] == pytest.approx([1.0, 2.0, 4.0])


async def test_the_limiter_holds_requests_to_the_platform_rate() -> None:
    clock = SteppedClock(NOW)
    limiter = PlatformLimiter(600.0, clock)
    for _ in range(600):
        await limiter.acquire()
    assert clock.slept == []
    await limiter.acquire()
    assert clock.slept == [pytest.approx(0.1)]
    # A minute later the budget is back, but never more than a minute's worth.
    clock.advance(timedelta(minutes=5))
    clock.slept.clear()
    for _ in range(601):
        await limiter.acquire()
    assert len(clock.slept) == 1


async def test_a_pause_holds_every_request_until_it_ends() -> None:
    clock = SteppedClock(NOW)
    limiter = PlatformLimiter(600.0, clock)
    limiter.pause_until(NOW + timedelta(seconds=30))
    limiter.pause_until(NOW + timedelta(seconds=10))
    await limiter.acquire()
    assert clock.now() == NOW + timedelta(seconds=30)
