"""Rules on one post's new snapshot against its previous one: likes above views, a burst of likes
(or likes and comments) its views do not explain, and a sharp downward revision (a purge)."""

from __future__ import annotations

from services.domain.counters import Counters
from services.domain.suspicion.flag import Flag
from services.domain.suspicion.settings import SuspicionSettings


def likes_exceed_views(
    post_id: str, at: float, counts: Counters, settings: SuspicionSettings
) -> Flag | None:
    """More likes (or engagements) than views: nobody likes a post without seeing it."""
    engaged = max(counts.likes, counts.engagements)
    if engaged < settings.likes_over_views_min_likes:
        return None
    if engaged <= settings.likes_over_views * counts.views:
        return None
    return Flag(
        "likes_exceed_views",
        post_id,
        at,
        {
            "likes": counts.likes,
            "engagements": counts.engagements,
            "views": counts.views,
            "threshold_ratio": settings.likes_over_views,
        },
    )


def engagement_burst(
    post_id: str,
    at: float,
    gained: Counters,
    like_rate: float | None,
    comment_rate: float | None,
    settings: SuspicionSettings,
) -> Flag | None:
    """Likes gained since the post's previous snapshot (or since posting, for its first) far
    beyond what the views gained explain at the creator's own like rate; comments gained with
    them beyond their own rate are counted in the excess too (a pod comments as well as likes)."""
    if like_rate is None or gained.likes < settings.burst_min_likes:
        return None
    expected = like_rate * max(gained.views, 0)
    if gained.likes <= settings.burst_factor * expected + settings.burst_min_likes:
        return None
    excess_likes = round(gained.likes - expected)
    excess_comments = 0
    if comment_rate is not None:
        excess_comments = max(0, round(gained.comments - comment_rate * max(gained.views, 0)))
    return Flag(
        "engagement_burst",
        post_id,
        at,
        {
            "likes_gained": gained.likes,
            "views_gained": gained.views,
            "comments_gained": gained.comments,
            "expected_likes": round(expected, 1),
            "threshold_factor": settings.burst_factor,
        },
        likes=excess_likes,
        comments=excess_comments,
    )


def purge(
    post_id: str, at: float, before: Counters, gained: Counters, settings: SuspicionSettings
) -> Flag | None:
    """Likes revised down sharply between two snapshots: the platform removed fake likes."""
    removed = -gained.likes
    if removed < settings.purge_min_likes or removed < settings.purge_share * before.likes:
        return None
    return Flag(
        "purge",
        post_id,
        at,
        {
            "likes_before": before.likes,
            "likes_removed": removed,
            "share_removed": round(removed / before.likes, 4),
            "threshold_share": settings.purge_share,
        },
        likes=-removed,
    )
