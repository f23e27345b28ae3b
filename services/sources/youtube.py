"""YouTube Data API v3 video resource → ``post_metrics``.

Input: one item of ``GET /youtube/v3/videos?part=statistics,snippet&id=…`` (``items[i]``):
``{"id", "snippet": {"publishedAt", …}, "statistics": {"viewCount", "likeCount", …}}``. Counts
are strings of digits; they are parsed, and an integer is taken as well.

Mapping: ``viewCount``, ``likeCount``, ``commentCount`` → views, likes, comments;
``snippet.publishedAt`` → posted_at (``PostContext.posted_at`` only if the snippet was not
requested). ``favoriteCount`` is ignored (the contract has no favourites). The Data API has no
shares, saves or clicks: all 0 (shares exist only in YouTube Analytics, which needs the owner's
consent). A missing ``viewCount`` or ``commentCount`` is refused: only a hidden like count is
documented as absent. A video id may start with ``-`` or ``_``: the contract's ``post_id`` allows
it (its other identifiers still start with a letter or a digit).

Hidden likes: when the creator hides the like count, ``likeCount`` is absent, not "0". The
snapshot carries likes 0 rather than being refused, because hiding is a lasting choice, not a
delay: refusing would leave the video without views and comments for the whole campaign. The cost:
a creator who hides likes mid-campaign reads as a drop in likes to 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.domain.events import PostMetrics
from services.sources.common import PostContext, SourceError, build_event, digit_count, post_id_of

PLATFORM = "youtube"


def _section(video: dict[str, Any], name: str) -> dict[str, Any] | None:
    section = video.get(name)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise SourceError(PLATFORM, name, f"must be a JSON object, got {section!r}")
    return section


def _posted_at(video: dict[str, Any]) -> datetime | None:
    snippet = _section(video, "snippet")
    if snippet is None or "publishedAt" not in snippet:
        return None
    text = snippet["publishedAt"]
    if not isinstance(text, str):
        raise SourceError(
            PLATFORM, "snippet.publishedAt", f"must be an RFC 3339 string, got {text!r}"
        )
    try:
        published = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SourceError(
            PLATFORM, "snippet.publishedAt", f"is not an RFC 3339 time: {text!r}"
        ) from exc
    if published.tzinfo is None:
        raise SourceError(PLATFORM, "snippet.publishedAt", f"has no time zone: {text!r}")
    return published


def _required(statistics: dict[str, Any], name: str) -> int:
    if name not in statistics:
        raise SourceError(PLATFORM, f"statistics.{name}", "missing from the response")
    return digit_count(PLATFORM, f"statistics.{name}", statistics[name])


def post_metrics(video: Any, context: PostContext) -> PostMetrics:
    """The snapshot of one YouTube video, fetched at ``context.observed_at``."""
    post_id = post_id_of(PLATFORM, video)
    statistics = _section(video, "statistics")
    if statistics is None:
        raise SourceError(PLATFORM, "statistics", "missing: request part=statistics")
    hidden = "likeCount" not in statistics
    likes = 0 if hidden else digit_count(PLATFORM, "statistics.likeCount", statistics["likeCount"])
    return build_event(
        PLATFORM,
        post_id,
        context,
        _posted_at(video),
        views=_required(statistics, "viewCount"),
        likes=likes,
        comments=_required(statistics, "commentCount"),
        shares=0,
        saves=0,
    )
