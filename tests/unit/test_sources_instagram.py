"""Instagram media insights → post_metrics, on the shapes the Graph API documents."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sources import instagram
from services.sources.common import PostContext, SourceError
from tests.unit.test_sources import counts, refused, reparsed

MEDIA = "17855590849148465"
POSTED = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CONTEXT = PostContext(
    campaign_id="spring-launch",
    creator_id="ana",
    observed_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    followers=12_000,
    posted_at=POSTED,
)


def insight(name: str, value: Any, title: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": title or name.capitalize(),
        "description": f"The {name} of this media.",
        "id": f"{MEDIA}/insights/{name}/lifetime",
    }


def reel(**overrides: Any) -> dict[str, Any]:
    """``GET /{media-id}/insights?metric=views,reach,likes,comments,shares,saved,…``."""
    values = {
        "views": 3000,
        "reach": 2100,
        "likes": 150,
        "comments": 15,
        "shares": 6,
        "saved": 9,
        "total_interactions": 180,
        "ig_reels_avg_watch_time": 5400,
    }
    values.update(overrides)
    return {"data": [insight(name, value) for name, value in values.items()]}


def refusal(response: Any, media_id: str = MEDIA, context: PostContext = CONTEXT) -> SourceError:
    return refused("instagram", lambda: instagram.post_metrics(response, media_id, context))


def test_a_reel_maps_to_a_valid_snapshot() -> None:
    event = reparsed(instagram.post_metrics(reel(), MEDIA, CONTEXT))
    assert event.event_id == f"instagram:{MEDIA}@2026-05-01T12:00:00.000000Z"
    assert (event.platform, event.post_id, event.posted_at) == ("instagram", MEDIA, POSTED)
    assert event.observed_at == CONTEXT.observed_at
    assert (event.campaign_id, event.creator_id, event.followers) == (
        "spring-launch",
        "ana",
        12_000,
    )
    assert counts(event) == (3000, 150, 15, 6, 9, 0)


def test_reach_and_total_interactions_do_not_change_the_snapshot() -> None:
    base = instagram.post_metrics(reel(), MEDIA, CONTEXT)
    assert instagram.post_metrics(reel(reach=1, total_interactions=10**6), MEDIA, CONTEXT) == base


def test_metrics_removed_in_april_2025_are_ignored_when_present() -> None:
    old = reel(impressions=9999, plays=8888, clips_replays_count=7, video_views=6)
    assert instagram.post_metrics(old, MEDIA, CONTEXT) == instagram.post_metrics(
        reel(), MEDIA, CONTEXT
    )


def test_a_pre_2025_response_without_views_names_the_replacement() -> None:
    response = reel(plays=3000)
    response["data"] = [e for e in response["data"] if e["name"] != "views"]
    error = refusal(response)
    assert error.field == "views"
    assert "request views" in error.reason
    assert "plays no longer count (removed April 2025)" in error.reason


def test_the_order_of_the_insights_does_not_matter() -> None:
    response = reel()
    shuffled = {"data": list(reversed(response["data"]))}
    assert instagram.post_metrics(shuffled, MEDIA, CONTEXT) == instagram.post_metrics(
        response, MEDIA, CONTEXT
    )


def test_no_insights_at_all_refuses_the_snapshot_rather_than_claiming_zero() -> None:
    error = refusal({"data": []})
    assert error.field == "data"
    assert "rather than claiming 0" in error.reason


@pytest.mark.parametrize("name", ["views", "likes", "saved"])
def test_an_empty_values_list_refuses_the_snapshot(name: str) -> None:
    response = reel()
    next(e for e in response["data"] if e["name"] == name)["values"] = []
    error = refusal(response)
    assert error.field == f"{name}.values"
    assert "is empty" in error.reason


@pytest.mark.parametrize("name", ["views", "likes", "comments", "shares", "saved"])
def test_a_metric_not_requested_is_named(name: str) -> None:
    response = reel()
    response["data"] = [e for e in response["data"] if e["name"] != name]
    error = refusal(response)
    assert error.field == name
    assert error.reason.startswith(f"metric missing from the response: request {name}")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("3000", "must be an integer count, got '3000'"),
        (-1, "must not be negative, got -1"),
        (12.5, "must be an integer count, got 12.5"),
        (None, "must be an integer count, got None"),
        (True, "must be an integer count, got True"),
    ],
)
def test_a_value_that_is_not_a_count_is_refused(value: Any, reason: str) -> None:
    error = refusal(reel(views=value))
    assert (error.field, error.reason) == ("views.values[0].value", reason)


def test_a_story_without_likes_is_refused_naming_the_missing_metrics() -> None:
    story = {"data": [insight(n, 10) for n in ("views", "reach", "replies", "shares")]}
    error = refusal(story)
    assert error.field == "likes"
    assert "likes, comments, saved" in error.reason


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [
        (lambda e: e.update(period="day"), "likes.period", "must be 'lifetime'"),
        (lambda e: e.update(values=[{"value": 1}, {"value": 2}]), "likes.values", "must be one"),
        (lambda e: e.update(values=[{"end_time": "x"}]), "likes.values", "must be one"),
        (lambda e: e.update(values=None), "likes.values", "must be a list"),
        (lambda e: e.update(id="999/insights/likes/lifetime"), "likes.id", "not an insight of"),
    ],
)
def test_malformed_insights_are_refused_with_the_metric(
    mutate: Any, field: str, fragment: str
) -> None:
    response = reel()
    mutate(next(e for e in response["data"] if e["name"] == "likes"))
    error = refusal(response)
    assert error.field == field
    assert fragment in error.reason


@pytest.mark.parametrize(
    ("response", "field"),
    [
        ([], "(response)"),
        ({}, "data"),
        ({"data": {"views": 1}}, "data"),
        ({"data": ["views"]}, "data[0].name"),
        ({"data": [{"value": 1}]}, "data[0].name"),
        ({"data": [insight("views", 1), insight("views", 2)]}, "data[1].name"),
        (
            {
                "error": {
                    "message": "Invalid OAuth access token.",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
            "error",
        ),
    ],
)
def test_malformed_responses_are_refused(response: Any, field: str) -> None:
    assert refusal(response).field == field


def test_without_the_media_timestamp_there_is_no_post_time() -> None:
    context = PostContext("spring-launch", "ana", CONTEXT.observed_at)
    error = refusal(reel(), context=context)
    assert error.field == "posted_at"


def test_the_response_is_not_modified() -> None:
    response = reel()
    before = copy.deepcopy(response)
    instagram.post_metrics(response, MEDIA, CONTEXT)
    assert response == before


@given(st.lists(st.integers(min_value=0, max_value=10**15), min_size=5, max_size=5))
def test_any_lifetime_counts_pass_the_contract(counts: list[int]) -> None:
    views, likes, comments, shares, saved = counts
    response = reel(views=views, likes=likes, comments=comments, shares=shares, saved=saved)
    event = reparsed(instagram.post_metrics(response, MEDIA, CONTEXT))
    assert (event.views, event.likes, event.comments, event.shares, event.saves) == tuple(counts)
