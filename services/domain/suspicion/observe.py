"""The rules run where a post snapshot is applied to a creator's state: one snapshot's cost is a
few comparisons against the post's previous snapshot and the creator's kept follower readings."""

from __future__ import annotations

from collections.abc import Sequence

from services.domain.counters import Counters
from services.domain.suspicion.flag import Flag, record
from services.domain.suspicion.follower_rules import Reading, follower_spike, keep_reading
from services.domain.suspicion.post_rules import engagement_burst, likes_exceed_views, purge
from services.domain.suspicion.settings import SuspicionSettings


def own_rates(
    lifetime: Counters, flags: Sequence[Flag], settings: SuspicionSettings
) -> tuple[float | None, float | None]:
    """The creator's likes and comments per view so far, without the excess of its flagged
    bursts; ``None`` until they rest on ``burst_reference_min_views`` views."""
    if lifetime.views < settings.burst_reference_min_views:
        return None, None
    likes, comments = lifetime.likes, lifetime.comments
    for flag in flags:
        if flag.kind == "engagement_burst":
            likes -= flag.likes
            comments -= flag.comments
    return max(0, likes) / lifetime.views, max(0, comments) / lifetime.views


def observe_snapshot(
    flags: list[Flag],
    post_id: str,
    at: float,
    previous: Counters | None,
    counts: Counters,
    gained: Counters,
    lifetime: Counters,
    settings: SuspicionSettings,
) -> None:
    """Record the post rules' findings on a new snapshot (``gained`` since ``previous``, or
    since posting for a post's first); ``lifetime`` is the creator's counters before it."""
    found = [likes_exceed_views(post_id, at, counts, settings)]
    # The creator's own rates only matter to a burst (they sum its flags): worked out for
    # snapshots gaining enough likes to be one.
    if gained.likes >= settings.burst_min_likes:
        like_rate, comment_rate = own_rates(lifetime, flags, settings)
        found.append(engagement_burst(post_id, at, gained, like_rate, comment_rate, settings))
    if previous is not None:
        found.append(purge(post_id, at, previous, gained, settings))
    for flag in found:
        if flag is not None and not _already(flags, flag):
            record(flags, flag, settings.max_records)


def _already(flags: Sequence[Flag], found: Flag) -> bool:
    """``likes_exceed_views`` holds for every later snapshot of the post: it is recorded once."""
    return found.kind == "likes_exceed_views" and any(
        f.kind == found.kind and f.post_id == found.post_id for f in flags
    )


def observe_followers(
    flags: list[Flag], readings: list[Reading], latest: Reading, settings: SuspicionSettings
) -> None:
    """Check the creator's newest follower reading for a spike, then keep it."""
    spike = follower_spike(readings, latest, settings)
    if spike is not None:
        record(flags, spike, settings.max_records)
    keep_reading(readings, latest, settings)
