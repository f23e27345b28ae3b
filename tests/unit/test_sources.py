"""What every platform adapter shares: the event id, the caller's context, the contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.domain.events import PostMetrics, parse_event
from services.sources import tiktok
from services.sources.common import PostContext, SourceError, digit_count, snapshot_id

OBSERVED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CONTEXT = PostContext(campaign_id="spring-launch", creator_id="ana", observed_at=OBSERVED)

VIDEO: dict[str, Any] = {
    "id": "7080213458555737986",
    "create_time": 1777600000,
    "view_count": 3000,
    "like_count": 150,
    "comment_count": 15,
    "share_count": 6,
}


def reparsed(event: PostMetrics) -> PostMetrics:
    """The adapter's event sent as JSON and validated again, as ingest would."""
    again = parse_event(event.model_dump(mode="json"))
    assert isinstance(again, PostMetrics), again
    assert again == event
    return again


def counts(event: PostMetrics) -> tuple[int, ...]:
    return (event.views, event.likes, event.comments, event.shares, event.saves, event.clicks)


def refused(platform: str, adapt: Callable[[], PostMetrics]) -> SourceError:
    """The adapter's error, which must name its platform."""
    with pytest.raises(SourceError) as caught:
        adapt()
    assert caught.value.platform == platform
    return caught.value


def test_the_event_id_is_the_post_and_the_instant_it_was_observed() -> None:
    same_instant = OBSERVED.astimezone(timezone(timedelta(hours=2)))
    assert snapshot_id("tiktok", "42", OBSERVED) == "tiktok:42@2026-05-01T12:00:00.000000Z"
    assert snapshot_id("tiktok", "42", same_instant) == snapshot_id("tiktok", "42", OBSERVED)
    later = OBSERVED + timedelta(microseconds=1)
    assert snapshot_id("tiktok", "42", later) != snapshot_id("tiktok", "42", OBSERVED)


def test_fetching_again_gives_the_same_event_and_a_later_fetch_another() -> None:
    first = tiktok.post_metrics(VIDEO, CONTEXT)
    assert tiktok.post_metrics(dict(VIDEO), CONTEXT) == first
    later = PostContext("spring-launch", "ana", OBSERVED + timedelta(hours=1))
    assert tiktok.post_metrics(VIDEO, later).event_id != first.event_id


def test_unknown_followers_are_sent_as_zero_and_known_ones_as_given() -> None:
    assert reparsed(tiktok.post_metrics(VIDEO, CONTEXT)).followers == 0
    known = PostContext("spring-launch", "ana", OBSERVED, followers=12_000)
    assert reparsed(tiktok.post_metrics(VIDEO, known)).followers == 12_000


def test_a_naive_observed_at_is_refused_before_it_shapes_the_event_id() -> None:
    naive = PostContext("spring-launch", "ana", datetime(2026, 5, 1, 12, 0))
    error = refused("tiktok", lambda: tiktok.post_metrics(VIDEO, naive))
    assert (error.field, error.reason) == ("observed_at", "must have a time zone")


@pytest.mark.parametrize(
    ("context", "field"),
    [
        (PostContext("", "ana", OBSERVED), "campaign_id"),
        (PostContext("spring launch", "ana", OBSERVED), "campaign_id"),
        (PostContext("spring-launch", "ana", OBSERVED, followers=-1), "followers"),
        (PostContext("spring-launch", "ana", datetime(2026, 1, 1, tzinfo=UTC)), "observed_at"),
    ],
)
def test_what_the_contract_refuses_is_refused_with_the_event_field(
    context: PostContext, field: str
) -> None:
    error = refused("tiktok", lambda: tiktok.post_metrics(VIDEO, context))
    assert error.field == field
    assert error.reason
    assert str(error).startswith(f"tiktok: {field}: ")


@pytest.mark.parametrize("value", ["", "-1", "1.5", "1e3", " 12", "²", "٣", None, 1.0, True])
def test_digit_counts_refuse_anything_but_digits(value: object) -> None:
    with pytest.raises(SourceError) as caught:
        digit_count("youtube", "statistics.viewCount", value)
    assert caught.value.field == "statistics.viewCount"
