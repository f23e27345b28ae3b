"""How creators, platforms and currencies look in the simulation, and how often posts are boosted,
revised or re-sent.

Realism (figures from DOMAIN-NOTES): engagement rate by views falls with follower tier, from about
6.5% for nano accounts (Captiv8: Instagram <10K, 6.23% by impressions) to about 4.2% for mega
accounts (Captiv8: TikTok >1.5M, 4.95% by views, with the TikTok multiplier); views per follower
fall with size too, so the rate by followers runs from ~2.3% (nano; HypeAuditor 2023/2026: 2.78%
and 1.78%) down to ~0.6% (mega; HypeAuditor: 1.54% in 2018, 0.33% in 2026), a 3-4x gap ("micro
creators get 2-5x the engagement of celebrities"). Snapshots come every few hours for 7-10 days
(Sprinklr: every 4 h for 10 days) and arrive late: usually an hour or two, sometimes 24-48 h
(Later, TikTok) or 36-70 h on YouTube (Brandwatch: 36-72 h; kept inside the monitor's 72 h
allowed lateness). Some snapshots are re-sent and some revise likes down (fake likes removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Platform = Literal["instagram", "tiktok", "youtube"]


@dataclass(frozen=True)
class TierProfile:
    """How creators of one follower tier look: share of a roster, size, engagement and reach."""

    weight: float
    followers: tuple[int, int]
    er_by_views: float
    views_per_follower: float
    fee_cpm_usd: tuple[float, float]
    product_share: float


# Tier bounds follow services.domain.tiers.DEFAULT_TIER_BOUNDS (Mediakix / HypeAuditor).
TIERS: dict[str, TierProfile] = {
    "nano": TierProfile(0.36, (1_000, 10_000), 0.065, 0.35, (6.0, 15.0), 0.6),
    "micro": TierProfile(0.30, (10_000, 50_000), 0.056, 0.30, (6.0, 15.0), 0.4),
    "mid": TierProfile(0.22, (50_000, 500_000), 0.049, 0.24, (8.0, 18.0), 0.1),
    "macro": TierProfile(0.07, (500_000, 1_000_000), 0.045, 0.19, (8.0, 20.0), 0.0),
    "mega": TierProfile(0.05, (1_000_000, 8_000_000), 0.042, 0.15, (10.0, 22.0), 0.0),
}


@dataclass(frozen=True)
class PlatformProfile:
    """Platform differences: reach, engagement mix, link clicks, decay speed and data lateness."""

    weight: float
    reach: float
    engagement: float
    mix: tuple[float, float, float, float]
    click_through: tuple[float, float]
    decay_days: tuple[float, float]
    late_share: float
    late_hours: tuple[float, float]


PLATFORMS: dict[Platform, PlatformProfile] = {
    "instagram": PlatformProfile(
        0.45, 1.0, 1.0, (0.86, 0.04, 0.05, 0.05), (0.006, 0.012), (0.4, 1.0), 0.08, (24, 48)
    ),
    "tiktok": PlatformProfile(
        0.35, 2.0, 1.18, (0.84, 0.03, 0.07, 0.06), (0.004, 0.010), (0.3, 0.8), 0.10, (24, 48)
    ),
    "youtube": PlatformProfile(
        0.20, 0.7, 0.75, (0.92, 0.05, 0.03, 0.0), (0.008, 0.020), (0.8, 1.8), 0.12, (36, 70)
    ),
}

CURRENCIES: dict[str, tuple[float, float]] = {
    "USD": (0.70, 1.0),
    "EUR": (0.20, 0.92),
    "GBP": (0.10, 0.79),
}

# Monday first. Views peak at the weekend; engagement per view moves only a little.
WEEKDAY_VIEWS = (0.96, 0.98, 1.0, 1.0, 0.98, 1.04, 1.06)
WEEKDAY_ENGAGEMENT = (1.0, 1.01, 1.01, 1.0, 0.98, 0.99, 1.01)

DUPLICATE_SHARE = 0.02
REVISED_POST_SHARE = 0.05
BOOSTED_POST_SHARE = 0.08
