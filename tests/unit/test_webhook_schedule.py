"""When the notifier tries again (pure logic): Svix's schedule with jitter, Retry-After in both
forms, and which answers are failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.schedule import Attempt, RetryPolicy, attempt_of, retry_after_seconds
from services.notifier.settings import NotifierSettings

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLICY = NotifierSettings().retry_policy()


def test_the_default_schedule_is_svix_s_and_repeats_its_last_wait() -> None:
    exact = RetryPolicy(POLICY.schedule, 0, POLICY.retry_after_max, POLICY.disable_after)

    waits = [exact.delay(n, random.Random(0)) for n in range(1, 10)]

    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000]
    assert POLICY.disable_after == timedelta(days=5)


def test_jitter_varies_each_wait_within_its_bound_and_time_scale_shrinks_it() -> None:
    rng = random.Random(7)
    scaled = RetryPolicy((100.0,), 0.2, 3600, timedelta(days=5), time_scale=0.01)

    waits = [scaled.delay(1, rng) for _ in range(200)]

    assert all(0.8 <= wait <= 1.2 for wait in waits)
    assert len(set(waits)) > 100


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Tue, 01 Dec 2026 12:02:00 GMT", 120.0),
        ("Tue, 01 Dec 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "delivered", "retry_after"),
    [
        (200, True, None),
        (204, True, None),
        (301, False, None),
        (308, False, None),
        (429, False, 30.0),
        (502, False, 30.0),
        (503, False, 30.0),
        (504, False, 30.0),
        (500, False, None),
        (410, False, None),
    ],
)
def test_only_2xx_delivers_and_only_some_failures_say_when_to_return(
    status: int, delivered: bool, retry_after: float | None
) -> None:
    attempt = attempt_of(status, "30", NOW)

    assert (attempt.delivered, attempt.retry_after) == (delivered, retry_after)
    assert (attempt.error is None) is delivered


def test_a_failure_waits_then_disables_after_days_of_failing() -> None:
    rng = random.Random(1)
    exact = RetryPolicy((5.0, 300.0), 0, 3600, timedelta(days=5))
    failed = Attempt(None, "unreachable")

    first = exact.after_failure(failed, 1, None, NOW, rng)
    later = exact.after_failure(failed, 9, NOW - timedelta(days=4), NOW, rng)
    last = exact.after_failure(failed, 60, NOW - timedelta(days=5), NOW, rng)
    asked = exact.after_failure(Attempt(429, "busy", 99999), 1, None, NOW, rng)
    gone = exact.after_failure(Attempt(410, "gone"), 1, None, NOW, rng)

    assert (first.retry_at, first.disabled_reason) == (NOW + timedelta(seconds=5), None)
    assert later.retry_at == NOW + timedelta(seconds=300)
    assert last.retry_at is None
    assert last.disabled_reason == (
        "failing since 2026-11-26T12:00:00+00:00 (last error: unreachable)"
    )
    assert asked.retry_at == NOW + timedelta(hours=1)
    assert (gone.retry_at, gone.disabled_reason) == (None, "the receiver answered 410 Gone")
