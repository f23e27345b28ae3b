"""Public figures a team's own benchmarks are shown beside, each with its denominator, as gathered
in the shared domain notes (HypeAuditor, Captiv8, industry rules of thumb). They disagree by
about ten times, mostly because of the denominator: never compare a rate by views with one by
followers."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field


class Reference(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    metric: str = Field(
        description="the figure it compares with, e.g. engagement_rate_by_followers"
    )
    denominator: str = Field(description="what the figure is divided by")
    statistic: str = Field(description="mean over accounts, or as the source reports it")
    platform: str | None = Field(description="null: across platforms")
    followers_min: int | None = Field(description="the accounts it covers, from (inclusive)")
    followers_max: int | None = Field(description="up to (exclusive); null: no upper end")
    value: float

    def covers(self, lower: int, upper: int | None) -> bool:
        """Whether its accounts overlap the follower range [lower, upper)."""
        starts_before_end = upper is None or (self.followers_min or 0) < upper
        ends_after_start = self.followers_max is None or self.followers_max > lower
        return starts_before_end and ends_after_start


def _by_followers(
    source: str, platform: str | None, low: int, high: int | None, value: float
) -> Reference:
    return Reference(
        source=source,
        metric="engagement_rate_by_followers",
        denominator="followers",
        statistic="mean over accounts" if "2018" in source else "as reported",
        platform=platform,
        followers_min=low,
        followers_max=high,
        value=value,
    )


_HYPE_2018 = "HypeAuditor 2018, Instagram, ~37k accounts"
ENGAGEMENT_REFERENCES: tuple[Reference, ...] = (
    _by_followers(_HYPE_2018, "instagram", 0, 1_000, 0.1058),
    _by_followers(_HYPE_2018, "instagram", 1_000, 5_000, 0.0426),
    _by_followers(_HYPE_2018, "instagram", 5_000, 20_000, 0.0228),
    _by_followers(_HYPE_2018, "instagram", 20_000, 100_000, 0.0162),
    _by_followers(_HYPE_2018, "instagram", 100_000, 1_000_000, 0.0155),
    _by_followers(_HYPE_2018, "instagram", 1_000_000, None, 0.0154),
    _by_followers("HypeAuditor 2023, nano", "instagram", 1_000, 10_000, 0.0278),
    _by_followers("HypeAuditor 2023, nano", "tiktok", 1_000, 10_000, 0.126),
    _by_followers("HypeAuditor 2026, Instagram", "instagram", 1_000, 10_000, 0.0178),
    _by_followers("HypeAuditor 2026, Instagram", "instagram", 10_000, 50_000, 0.0054),
    _by_followers("HypeAuditor 2026, Instagram", "instagram", 1_000_000, None, 0.0033),
    Reference(
        source="Captiv8, Instagram",
        metric="engagement_rate_by_views",
        denominator="impressions (Instagram now reports views in their place)",
        statistic="as reported",
        platform="instagram",
        followers_min=0,
        followers_max=10_000,
        value=0.0623,
    ),
    Reference(
        source="Captiv8, TikTok",
        metric="engagement_rate_by_views",
        denominator="views",
        statistic="as reported",
        platform="tiktok",
        followers_min=1_500_000,
        followers_max=None,
        value=0.0495,
    ),
)


def _general(source: str, metric: str, denominator: str, statistic: str, value: float) -> Reference:
    """A figure quoted for influencer marketing at large, for no platform or size."""
    return Reference(
        source=source,
        metric=metric,
        denominator=denominator,
        statistic=statistic,
        platform=None,
        followers_min=None,
        followers_max=None,
        value=value,
    )


_RULE_OF_THUMB = "rule of thumb: 1-3.5% is average (below 1% low, above 6% very high)"
GENERAL_REFERENCES: tuple[Reference, ...] = (
    _general(
        _RULE_OF_THUMB, "engagement_rate_by_followers", "followers", "average, lower end", 0.01
    ),
    _general(
        _RULE_OF_THUMB, "engagement_rate_by_followers", "followers", "average, upper end", 0.035
    ),
    _general("industry CPM, often quoted (USD)", "cpm", "thousand impressions", "as quoted", 6.5),
    _general(
        "'businesses make $6.50 per $1 spent on influencer marketing', often quoted",
        "roas",
        "spend",
        "as quoted",
        6.5,
    ),
)


def references_for(
    follower_range: tuple[int, int | None] | None, platform: str | None
) -> list[Reference]:
    """The engagement references for a group: those whose accounts overlap its follower range
    (when it is a tier) on its platform (when it has one)."""
    found: Sequence[Reference] = ENGAGEMENT_REFERENCES
    if follower_range is not None:
        lower, upper = follower_range
        found = [r for r in found if r.covers(lower, upper)]
    if platform is not None:
        found = [r for r in found if r.platform in (None, platform)]
    return list(found)
