"""What the platform adapters share: the caller's context, the error, counts and the event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.domain.events import PostMetrics, parse_event


class SourceError(ValueError):
    """A platform response that cannot become a snapshot; ``field`` is where, ``reason`` why."""

    def __init__(self, platform: str, field: str, reason: str) -> None:
        super().__init__(f"{platform}: {field}: {reason}")
        self.platform = platform
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PostContext:
    """What a platform response lacks and the caller knows.

    ``followers`` is None when the creator's follower count is unknown: the snapshot then carries
    0, which the monitor reads as "no engagement rate by followers" for the post; the creator's
    follower count and tier also follow the latest snapshot, so pass a known count whenever there
    is one. ``posted_at`` is
    used only when the response has no post time of its own (Instagram insights never do).
    """

    campaign_id: str
    creator_id: str
    observed_at: datetime
    followers: int | None = None
    posted_at: datetime | None = None


_DIGITS = re.compile(r"[0-9]+")


def count(platform: str, field: str, value: Any) -> int:
    """A non-negative integer count, refusing what the platform would never send."""
    # bool is an int in Python, and a JSON true is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceError(platform, field, f"must be an integer count, got {value!r}")
    if value < 0:
        raise SourceError(platform, field, f"must not be negative, got {value}")
    return value


def digit_count(platform: str, field: str, value: Any) -> int:
    """A count sent as a string of ASCII digits (str.isdigit would also take '²' and '٣')."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise SourceError(platform, field, f"must be a string of digits, got {value!r}")
        return int(value)
    return count(platform, field, value)


def snapshot_id(platform: str, post_id: str, observed_at: datetime) -> str:
    """The event id: the same post fetched at the same instant is the same snapshot."""
    at = observed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{platform}:{post_id}@{at}"


def build_event(
    platform: str,
    post_id: str,
    context: PostContext,
    posted_at: datetime | None,
    *,
    views: int,
    likes: int,
    comments: int,
    shares: int,
    saves: int,
) -> PostMetrics:
    """The ``post_metrics`` event, validated by the same ``parse_event`` as ingest."""
    if context.observed_at.tzinfo is None:
        # A naive time would silently take the machine's zone in the event id.
        raise SourceError(platform, "observed_at", "must have a time zone")
    if posted_at is None:
        posted_at = context.posted_at
    if posted_at is None:
        raise SourceError(platform, "posted_at", "not in the response and not given by the caller")
    raw = {
        "type": "post_metrics",
        "event_id": snapshot_id(platform, post_id, context.observed_at),
        "campaign_id": context.campaign_id,
        "creator_id": context.creator_id,
        "platform": platform,
        "post_id": post_id,
        "posted_at": posted_at,
        "observed_at": context.observed_at,
        "followers": 0 if context.followers is None else context.followers,
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        # None of these APIs reports link clicks; they come from a link shortener, not here.
        "clicks": 0,
    }
    event = parse_event(raw)
    if isinstance(event, list):
        # The event id is built from the post id: name the post id, the caller's actual input.
        first = next((e for e in event if e.field != "event_id"), event[0])
        raise SourceError(platform, first.field, first.reason)
    assert isinstance(event, PostMetrics)
    return event


def post_id_of(platform: str, resource: Any) -> str:
    """The ``id`` of a platform resource, a non-empty string as every one of these APIs sends."""
    if not isinstance(resource, dict):
        raise SourceError(platform, "(response)", f"must be a JSON object, got {resource!r}")
    post_id = resource.get("id")
    if not isinstance(post_id, str) or not post_id:
        raise SourceError(platform, "id", f"must be a non-empty string, got {post_id!r}")
    return post_id
