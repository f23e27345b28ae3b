"""YouTube Data API video resources → post_metrics, on the shapes the API documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sources import youtube
from services.sources.common import PostContext, SourceError
from tests.unit.test_sources import counts, refused, reparsed

CONTEXT = PostContext(
    campaign_id="spring-launch",
    creator_id="ana",
    observed_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    followers=230_000,
)


def video(**statistics: Any) -> dict[str, Any]:
    """One item of ``GET /youtube/v3/videos?part=statistics,snippet&id=…``.

    A statistic given as ``...`` is left out, as YouTube leaves out a hidden like count.
    """
    counts: dict[str, Any] = {
        "viewCount": "81234",
        "likeCount": "2456",
        "favoriteCount": "0",
        "commentCount": "312",
    }
    counts.update(statistics)
    return {
        "kind": "youtube#video",
        "etag": "Dn5xIderbhAnUk5TAW0qkFFir0M",
        "id": "Ks-_Mh1QhMc",
        "snippet": {
            "publishedAt": "2026-05-01T08:00:00Z",
            "channelId": "UCAuUUnT6oDeKwE6v1NGQxug",
            "title": "Spring launch",
        },
        "statistics": {k: v for k, v in counts.items() if v is not ...},
    }


def refusal(payload: Any, context: PostContext = CONTEXT) -> SourceError:
    return refused("youtube", lambda: youtube.post_metrics(payload, context))


def test_a_video_maps_to_a_valid_snapshot() -> None:
    event = reparsed(youtube.post_metrics(video(), CONTEXT))
    assert (event.platform, event.post_id) == ("youtube", "Ks-_Mh1QhMc")
    assert event.event_id == "youtube:Ks-_Mh1QhMc@2026-05-01T12:00:00.000000Z"
    assert event.posted_at == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert event.followers == 230_000
    assert counts(event) == (81_234, 2456, 312, 0, 0, 0)


def test_an_id_starting_with_a_dash_is_a_valid_snapshot() -> None:
    event = reparsed(youtube.post_metrics({**video(), "id": "-s-_Mh1QhMc"}, CONTEXT))
    assert event.event_id == "youtube:-s-_Mh1QhMc@2026-05-01T12:00:00.000000Z"


def test_hidden_likes_are_absent_and_read_as_zero() -> None:
    event = reparsed(youtube.post_metrics(video(likeCount=...), CONTEXT))
    assert (event.views, event.likes, event.comments) == (81_234, 0, 312)


def test_integer_counts_are_taken_too() -> None:
    assert youtube.post_metrics(video(viewCount=81234), CONTEXT) == youtube.post_metrics(
        video(), CONTEXT
    )


@pytest.mark.parametrize("name", ["viewCount", "commentCount"])
def test_a_missing_count_is_named(name: str) -> None:
    error = refusal(video(**{name: ...}))
    assert (error.field, error.reason) == (f"statistics.{name}", "missing from the response")


@pytest.mark.parametrize("name", ["viewCount", "likeCount", "commentCount"])
@pytest.mark.parametrize("value", ["-5", "12.0", "1,234", "", "abc", None, -5, True])
def test_counts_that_are_not_digits_are_refused(name: str, value: Any) -> None:
    error = refusal(video(**{name: value}))
    assert error.field == f"statistics.{name}"
    assert repr(value) in error.reason


def test_without_the_snippet_the_callers_post_time_is_used() -> None:
    payload = video()
    del payload["snippet"]
    assert refusal(payload).field == "posted_at"
    posted = datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    context = PostContext("spring-launch", "ana", CONTEXT.observed_at, posted_at=posted)
    assert youtube.post_metrics(payload, context).posted_at == posted


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        (1777622400, "must be an RFC 3339 string, got 1777622400"),
        ("yesterday", "is not an RFC 3339 time: 'yesterday'"),
        ("2026-05-01T08:00:00", "has no time zone: '2026-05-01T08:00:00'"),
    ],
)
def test_a_bad_publish_time_is_refused(published: Any, reason: str) -> None:
    payload = video()
    payload["snippet"]["publishedAt"] = published
    error = refusal(payload)
    assert (error.field, error.reason) == ("snippet.publishedAt", reason)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("Ks-_Mh1QhMc", "(response)"),
        ({"id": "Ks-_Mh1QhMc"}, "statistics"),
        ({"id": "Ks-_Mh1QhMc", "statistics": ["81234"]}, "statistics"),
        ({**video(), "snippet": "x"}, "snippet"),
        ({**video(), "id": None}, "id"),
        ({**video(), "snippet": {"publishedAt": "2026-05-02T08:00:00Z"}}, "observed_at"),
    ],
)
def test_what_cannot_be_a_snapshot_is_refused(payload: Any, field: str) -> None:
    assert refusal(payload).field == field


def test_renamed_statistics_are_not_guessed() -> None:
    payload = video(viewCount=...)
    payload["statistics"]["views"] = "81234"
    assert refusal(payload).field == "statistics.viewCount"


@given(st.lists(st.integers(min_value=0, max_value=10**15), min_size=3, max_size=3))
def test_string_counts_round_trip(counts: list[int]) -> None:
    views, likes, comments = (str(n) for n in counts)
    payload = video(viewCount=views, likeCount=likes, commentCount=comments)
    event = reparsed(youtube.post_metrics(payload, CONTEXT))
    assert [event.views, event.likes, event.comments] == counts


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=3))
def test_leading_zeros_do_not_change_a_count(count: int, zeros: int) -> None:
    payload = video(viewCount="0" * zeros + str(count))
    assert youtube.post_metrics(payload, CONTEXT).views == count
