"""Benchmarks by follower tier and platform from the team's own creators, beside public figures.

The unit is a creator in a campaign (a creator in three campaigns counts three times): its
lifetime engagement rates in that campaign make the distributions (median and quartiles, as the
public studies average over accounts), and its money adds up per currency into pooled CPE, CPM,
CAC and ROAS (what the group as a whole bought per unit of spend). Method: docs/creator-value.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.domain.benchmark_references import GENERAL_REFERENCES, Reference, references_for
from services.domain.creator_value import CreatorCampaign, Money, money_by_currency
from services.domain.metrics import ratio
from services.domain.tiers import tier_of, tier_range

Dimension = Literal["tier", "platform"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Spread(_Model):
    median: float
    p25: float
    p75: float


def quartiles(values: Sequence[float]) -> Spread | None:
    """Median and quartiles by linear interpolation between order statistics (the "inclusive"
    method: numpy's default, R's type 7); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return Spread(median=values[0], p25=values[0], p75=values[0])
    p25, median, p75 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(median=median, p25=p25, p75=p75)


class BenchmarkGroup(_Model):
    tier: str | None = Field(description="the tier; null when not grouped by tier")
    platform: str | None = Field(description="the platform; null when not grouped by platform")
    creators: int
    campaigns: int
    posts: int
    engagement_rate_by_views: Spread | None = Field(
        description="over creators in campaigns: engagements / views"
    )
    engagement_rate_by_followers: Spread | None = Field(
        description="over creators in campaigns: mean over posts of engagements / followers"
    )
    money: list[Money] = Field(description="pooled per currency: CPE, CPM, CAC, ROAS")
    references: list[Reference] = Field(description="public figures for such accounts")


class CurrencyRatio(_Model):
    currency: str | None
    engagements_per_1000: float | None
    new_customers_per_1000: float | None
    roas: float | None


class SmallVsLarge(_Model):
    """The smallest tier's figures divided by the largest's: how much more small creators engage
    and convert per unit of spend (above 1: more)."""

    smaller: str
    larger: str
    engagement_rate_by_views: float | None = Field(description="ratio of the medians")
    engagement_rate_by_followers: float | None = Field(description="ratio of the medians")
    money: list[CurrencyRatio] = Field(description="ratios of the pooled figures, per currency")


class TierBound(_Model):
    tier: str
    followers_min: int
    followers_max: int | None


class Benchmarks(_Model):
    by: list[Dimension]
    campaign_id: str | None
    since: datetime | None
    tier_bounds: list[TierBound]
    groups: list[BenchmarkGroup]
    small_vs_large: SmallVsLarge | None = Field(
        description="by tier only: the smallest tier with data against the largest"
    )
    general_references: list[Reference]


@dataclass
class _Group:
    tier: str | None
    platform: str | None
    rows: list[CreatorCampaign] = field(default_factory=list)


def _rates(rows: Iterable[CreatorCampaign], by_views: bool) -> list[float]:
    found = []
    for row in rows:
        rate = (
            row.view.totals.engagement_rate_by_views
            if by_views
            else row.view.efficiency.engagement_rate_by_followers
        )
        if rate is not None:
            found.append(rate)
    return found


def _group(
    group: _Group, by: Sequence[Dimension], tier_bounds: Sequence[tuple[str, int]]
) -> BenchmarkGroup:
    rows = group.rows
    follower_range = tier_range(group.tier, tier_bounds) if group.tier is not None else None
    return BenchmarkGroup(
        tier=group.tier,
        platform=group.platform,
        creators=len({row.view.creator_id for row in rows}),
        campaigns=len({row.view.campaign_id for row in rows}),
        posts=sum(row.view.posts for row in rows),
        engagement_rate_by_views=quartiles(_rates(rows, by_views=True)),
        engagement_rate_by_followers=quartiles(_rates(rows, by_views=False)),
        money=money_by_currency(rows),
        references=references_for(follower_range, group.platform if "platform" in by else None),
    )


def _median_ratio(small: Spread | None, large: Spread | None) -> float | None:
    return _optional_ratio(
        small.median if small is not None else None, large.median if large is not None else None
    )


def _small_vs_large(groups: Sequence[BenchmarkGroup]) -> SmallVsLarge | None:
    if len(groups) < 2:
        return None
    small, large = groups[0], groups[-1]
    large_money = {m.currency: m for m in large.money}
    money = []
    for mine in small.money:
        theirs = large_money.get(mine.currency)
        if theirs is None:
            continue
        money.append(
            CurrencyRatio(
                currency=mine.currency,
                engagements_per_1000=_optional_ratio(
                    mine.engagements_per_1000, theirs.engagements_per_1000
                ),
                new_customers_per_1000=_optional_ratio(
                    mine.new_customers_per_1000, theirs.new_customers_per_1000
                ),
                roas=_optional_ratio(mine.roas, theirs.roas),
            )
        )
    return SmallVsLarge(
        smaller=small.tier or "",
        larger=large.tier or "",
        engagement_rate_by_views=_median_ratio(
            small.engagement_rate_by_views, large.engagement_rate_by_views
        ),
        engagement_rate_by_followers=_median_ratio(
            small.engagement_rate_by_followers, large.engagement_rate_by_followers
        ),
        money=money,
    )


def _optional_ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None:
        return None
    return ratio(numerator, denominator)


def benchmarks(
    rows: Iterable[CreatorCampaign],
    by: Sequence[Dimension],
    tier_bounds: Sequence[tuple[str, int]],
    campaign_id: str | None = None,
    since: datetime | None = None,
) -> Benchmarks:
    """Groups of ``rows`` by ``by``: tiers smallest first (in ``tier_bounds`` order), then
    platforms alphabetically (unknown last)."""
    groups: dict[tuple[str | None, str | None], _Group] = {}
    for row in rows:
        tier = tier_of(row.view.followers, tier_bounds) if "tier" in by else None
        platform = row.view.platform if "platform" in by else None
        groups.setdefault((tier, platform), _Group(tier, platform)).rows.append(row)
    tier_order = [name for name, _ in tier_bounds]

    def order(key: tuple[str | None, str | None]) -> tuple[int, bool, str]:
        tier, platform = key
        return (
            tier_order.index(tier) if tier is not None else 0,
            platform is None and "platform" in by,
            platform or "",
        )

    built = [_group(groups[key], by, tier_bounds) for key in sorted(groups, key=order)]
    return Benchmarks(
        by=list(by),
        campaign_id=campaign_id,
        since=since,
        tier_bounds=[
            TierBound(
                tier=name, followers_min=lower, followers_max=tier_range(name, tier_bounds)[1]
            )
            for name, lower in tier_bounds
        ],
        groups=built,
        small_vs_large=_small_vs_large(built) if list(by) == ["tier"] else None,
        general_references=list(GENERAL_REFERENCES),
    )
