"""Instagram Graph API media insights → ``post_metrics``.

Input: the answer of ``GET /{media-id}/insights?metric=views,likes,comments,shares,saved`` for one
feed post or reel, ``{"data": [{"name", "period": "lifetime", "values": [{"value"}], "id", …}]}``.
It has no post time: the caller passes the media's ``timestamp`` as ``PostContext.posted_at``.

Mapping: ``views``, ``likes``, ``comments``, ``shares`` as they are, ``saved`` → ``saves``; clicks 0
(not in the API). ``reach`` and ``total_interactions`` are ignored: the contract has no reach, and
the monitor sums engagements from the parts itself. The metrics Meta removed on 21 April 2025
(``impressions``, ``plays``, …) are ignored if an old fixture or proxy still sends them, and never
required: ``views`` replaces them.

Missing data: Instagram answers an empty ``data`` list, or an empty ``values`` list for a metric,
when it has no figure yet (insights lag up to 48 h; album children have none). A snapshot is the
post's lifetime counts, so one that said 0 views would later read as a burst of views, or revise
real counts down to nothing. The adapter refuses such a response with ``SourceError``; the poller
keeps the last snapshot it sent and tries again later.
"""

from __future__ import annotations

from typing import Any

from services.domain.events import PostMetrics
from services.sources.common import PostContext, SourceError, build_event, count

PLATFORM = "instagram"

# Insights metric name → event field.
COUNTED = {
    "views": "views",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saved": "saves",
}

REMOVED_IN_2025 = frozenset(
    {
        "impressions",
        "plays",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
        "video_views",
    }
)


def _error(field: str, reason: str) -> SourceError:
    return SourceError(PLATFORM, field, reason)


def _lifetime_value(entry: dict[str, Any], name: str, media_id: str) -> int:
    entry_id = entry.get("id")
    # The id is "{media-id}/insights/{metric}/lifetime": catch an answer for another post.
    if isinstance(entry_id, str) and not entry_id.startswith(f"{media_id}/"):
        raise _error(f"{name}.id", f"{entry_id!r} is not an insight of media {media_id}")
    period = entry.get("period", "lifetime")
    if period != "lifetime":
        raise _error(f"{name}.period", f"must be 'lifetime' (a cumulative count), got {period!r}")
    values = entry.get("values")
    if not isinstance(values, list):
        raise _error(f"{name}.values", f"must be a list, got {values!r}")
    if not values:
        raise _error(
            f"{name}.values",
            "is empty: Instagram has no figure yet (insights lag up to 48 h); "
            "refusing the snapshot rather than claiming 0",
        )
    if len(values) != 1 or not isinstance(values[0], dict) or "value" not in values[0]:
        raise _error(
            f"{name}.values", f'must be one {{"value": n}} for a lifetime metric, got {values!r}'
        )
    return count(PLATFORM, f"{name}.values[0].value", values[0]["value"])


def post_metrics(response: Any, media_id: str, context: PostContext) -> PostMetrics:
    """The snapshot of one media's lifetime insights, fetched at ``context.observed_at``."""
    if not isinstance(response, dict):
        raise _error("(response)", f"must be a JSON object, got {response!r}")
    if "error" in response:
        raise _error("error", f"the Graph API answered an error: {response['error']!r}")
    data = response.get("data")
    if not isinstance(data, list):
        raise _error("data", f"must be a list of insights, got {data!r}")
    if not data:
        raise _error(
            "data",
            "is empty: no insights for this media (not yet available, or an album child); "
            "refusing the snapshot rather than claiming 0",
        )
    found: dict[str, int] = {}
    names: set[str] = set()
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _error(f"data[{index}].name", f"must be a metric name, got {entry!r}")
        name: str = entry["name"]
        if name in names:
            raise _error(f"data[{index}].name", f"{name!r} appears twice")
        names.add(name)
        if name in COUNTED:
            found[COUNTED[name]] = _lifetime_value(entry, name, media_id)
    missing = [name for name in COUNTED if COUNTED[name] not in found]
    if missing:
        removed = sorted(names & REMOVED_IN_2025)
        hint = f"; {', '.join(removed)} no longer count (removed April 2025)" if removed else ""
        raise _error(
            missing[0], f"metric missing from the response: request {', '.join(missing)}{hint}"
        )
    return build_event(PLATFORM, media_id, context, None, **found)
