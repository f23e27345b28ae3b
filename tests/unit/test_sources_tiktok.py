"""TikTok Display API video objects → post_metrics, on the shapes the API documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sources import tiktok
from services.sources.common import PostContext, SourceError
from tests.unit.test_sources import counts, refused, reparsed

CONTEXT = PostContext(
    campaign_id="spring-launch",
    creator_id="ana",
    observed_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    followers=48_000,
)
CREATED = 1777622400  # 2026-05-01T08:00:00Z


def video(**overrides: Any) -> dict[str, Any]:
    """One item of ``data.videos`` from ``POST /v2/video/query/``."""
    fields: dict[str, Any] = {
        "id": "7080213458555737986",
        "create_time": CREATED,
        "share_url": "https://www.tiktok.com/@ana/video/7080213458555737986",
        "title": "Spring launch",
        "video_description": "#ad unboxing",
        "duration": 21,
        "view_count": 52_000,
        "like_count": 4100,
        "comment_count": 120,
        "share_count": 85,
    }
    fields.update(overrides)
    return fields


def refusal(payload: Any, context: PostContext = CONTEXT) -> SourceError:
    return refused("tiktok", lambda: tiktok.post_metrics(payload, context))


def test_a_video_maps_to_a_valid_snapshot() -> None:
    event = reparsed(tiktok.post_metrics(video(), CONTEXT))
    assert (event.platform, event.post_id) == ("tiktok", "7080213458555737986")
    assert event.event_id == "tiktok:7080213458555737986@2026-05-01T12:00:00.000000Z"
    assert event.posted_at == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert event.followers == 48_000
    assert counts(event) == (52_000, 4100, 120, 85, 0, 0)


def test_without_create_time_the_callers_post_time_is_used() -> None:
    posted = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    context = PostContext("spring-launch", "ana", CONTEXT.observed_at, posted_at=posted)
    payload = video()
    del payload["create_time"]
    assert tiktok.post_metrics(payload, context).posted_at == posted
    assert refusal(payload).field == "posted_at"


def test_the_videos_own_create_time_wins_over_the_callers() -> None:
    context = PostContext(
        "spring-launch", "ana", CONTEXT.observed_at, posted_at=datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert tiktok.post_metrics(video(), context).posted_at == datetime(2026, 5, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("name", ["view_count", "like_count", "comment_count", "share_count"])
def test_a_count_not_requested_is_named(name: str) -> None:
    payload = video()
    del payload[name]
    error = refusal(payload)
    assert error.field == name
    assert "fields=" in error.reason


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("view_count", "52000", "must be an integer count, got '52000'"),
        ("like_count", -3, "must not be negative, got -3"),
        ("comment_count", 1.5, "must be an integer count, got 1.5"),
        ("share_count", None, "must be an integer count, got None"),
        ("create_time", "1777622400", "must be an integer count, got '1777622400'"),
        ("create_time", 10**15, "is not a unix time: 1000000000000000"),
    ],
)
def test_values_that_are_not_counts_are_refused(name: str, value: Any, reason: str) -> None:
    error = refusal(video(**{name: value}))
    assert (error.field, error.reason) == (name, reason)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "(response)"),
        (video(id=7080213458555737986), "id"),
        (video(id=""), "id"),
        (video(id="7080 2134"), "post_id"),
        (video(create_time=0), "posted_at"),
        (video(create_time=CREATED + 86_400), "observed_at"),
        (video(view_count=10**16), "views"),
    ],
)
def test_what_cannot_be_a_snapshot_is_refused(payload: Any, field: str) -> None:
    assert refusal(payload).field == field


def test_renamed_fields_are_not_guessed() -> None:
    payload = video()
    payload["play_count"] = payload.pop("view_count")
    assert refusal(payload).field == "view_count"


@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=4, max_size=4))
def test_int64_counts_pass_the_contract_up_to_its_ceiling(counts: list[int]) -> None:
    views, likes, comments, shares = counts
    payload = video(view_count=views, like_count=likes, comment_count=comments, share_count=shares)
    if max(counts) > 10**15:
        assert refusal(payload).reason
        return
    event = reparsed(tiktok.post_metrics(payload, CONTEXT))
    assert (event.views, event.likes, event.comments, event.shares) == tuple(counts)
