"""The thresholds of the suspicious-engagement rules, each configurable.

Where each default comes from (vendors' published figures, the simulator's honest spread and the
tuning seeds) is in ``docs/suspicious-engagement.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FlagKind = Literal[
    "likes_exceed_views",
    "follower_spike",
    "engagement_out_of_band",
    "engagement_burst",
    "purge",
]
FLAG_KINDS: tuple[FlagKind, ...] = (
    "likes_exceed_views",
    "follower_spike",
    "engagement_out_of_band",
    "engagement_burst",
    "purge",
)


@dataclass(frozen=True, slots=True)
class SuspicionSettings:
    likes_over_views: float = 1.0
    """``likes_exceed_views``: a snapshot's likes (or engagements) above this multiple of its
    views."""
    likes_over_views_min_likes: int = 20
    """... and at least this many likes, so a post read a second before its views is no flag."""

    follower_lookback_hours: float = 24.0
    """``follower_spike``: followers are compared with the count this long ago (or the oldest
    kept since)."""
    follower_min_gap_hours: float = 2.0
    """... at least this long ago, so two readings minutes apart are not a day's growth."""
    follower_point_hours: float = 3.0
    """Follower readings are kept at most one per this many hours (memory per creator)."""
    follows_per_view: float = 0.01
    """Followers a view can bring: one follow per hundred views counts as explained."""
    follower_view_lag_hours: float = 12.0
    """Views this long before the reference reading still explain follows (followers lag views)."""
    organic_growth_per_day: float = 0.005
    """Share of followers a creator may gain a day without any views to explain it."""
    follower_spike_share: float = 0.02
    """An unexplained gain above this share of the followers ..."""
    follower_spike_min: int = 250
    """... and above this many followers is a spike."""

    burst_factor: float = 3.0
    """``engagement_burst``: likes gained between two snapshots of a post above this multiple of
    what its views gained explain at the creator's own like rate."""
    burst_min_likes: int = 20
    """... by at least this many likes."""
    burst_reference_min_views: int = 250
    """The creator's own like rate is trusted once it rests on this many views."""

    band_factor: float = 3.0
    """``engagement_out_of_band``: a post's engagement rate by views above this multiple of its
    tier-and-platform median, or below the median divided by it."""
    band_min_creators: int = 10
    """A band needs this many creators with enough views; else the platform's, else none."""
    band_min_views: int = 1_000
    """A creator counts towards a band with at least this many views in its lifetime."""
    band_post_min_views: int = 200
    """A post is judged against its band with at least this many views ..."""
    band_min_excess: int = 20
    """... and, above the band, at least this many engagements beyond the band's median."""

    purge_share: float = 0.12
    """``purge``: a snapshot's likes revised down by at least this share of the post's likes ..."""
    purge_min_likes: int = 10
    """... and by at least this many likes."""

    max_records: int = 24
    """Flag records kept per creator (the oldest are dropped first)."""


DEFAULT_SUSPICION = SuspicionSettings()
