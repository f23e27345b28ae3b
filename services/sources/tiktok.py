"""TikTok Display API v2 video object → ``post_metrics``.

Input: one video object from ``POST /v2/video/query/`` (``data.videos[i]``), requested with
``fields=id,create_time,view_count,like_count,comment_count,share_count``. The API answers only the
fields asked for, so a missing count is refused with a hint rather than read as 0. The envelope
(``data.videos``, ``error.code``) is the poller's to unwrap.

Mapping: ``view_count``, ``like_count``, ``comment_count``, ``share_count`` → views, likes,
comments, shares; ``create_time`` (unix seconds) → posted_at. The Display API has no saves and no
clicks: both are 0, so TikTok engagements are likes + comments + shares.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.domain.events import PostMetrics
from services.sources.common import PostContext, SourceError, build_event, count, post_id_of

PLATFORM = "tiktok"

COUNTED = {
    "view_count": "views",
    "like_count": "likes",
    "comment_count": "comments",
    "share_count": "shares",
}


def _posted_at(video: dict[str, Any]) -> datetime | None:
    if "create_time" not in video:
        return None
    seconds = count(PLATFORM, "create_time", video["create_time"])
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise SourceError(PLATFORM, "create_time", f"is not a unix time: {seconds}") from exc


def post_metrics(video: Any, context: PostContext) -> PostMetrics:
    """The snapshot of one TikTok video, fetched at ``context.observed_at``."""
    post_id = post_id_of(PLATFORM, video)
    counts: dict[str, int] = {}
    for name, field in COUNTED.items():
        if name not in video:
            raise SourceError(PLATFORM, name, "missing from the video object: add it to `fields=`")
        counts[field] = count(PLATFORM, name, video[name])
    return build_event(PLATFORM, post_id, context, _posted_at(video), saves=0, **counts)
