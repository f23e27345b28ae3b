"""A creator across every campaign they worked on: figures per campaign and in total, and whether
their returns hold or fade campaign after campaign. Pure functions of the stored creator views;
the method is in docs/creator-value.md.

Money is in each campaign's currency and is never added across currencies: totals of money come
one per currency. Counts (views, engagements, clicks, customers) add up across campaigns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.domain import metrics
from services.domain.tiers import tier_of
from services.domain.views import CreatorView, StatusName

PER = 1_000.0
"""Rates per unit of spend are per this much money, in the campaign's currency."""

FADE_PER_CAMPAIGN = 0.10
"""A trend worse than this relative change per campaign is ``fading``, better is ``improving``."""

Verdict = Literal["holding", "fading", "improving", "insufficient_data"]


@dataclass(frozen=True)
class CreatorCampaign:
    """One creator's stored view in one campaign, with what the campaign's own row adds."""

    view: CreatorView
    currency: str | None
    campaign_status: StatusName | None

    @property
    def started_at(self) -> datetime | None:
        """When the creator's part of the campaign began: their first post, else (for views
        stored before that was kept) the start of the campaign's seven-day window."""
        if self.view.first_posted_at is not None:
            return self.view.first_posted_at
        week = self.view.windows.get("7d")
        return week.start if week is not None else self.view.as_of


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Reach(_Model):
    """Counts and rates that need no currency, so add up across campaigns."""

    posts: int
    views: int
    engagements: int
    clicks: int
    conversions: int
    new_customers: int
    engagement_rate_by_views: float | None = Field(description="engagements / views")
    engagement_rate_by_followers: float | None = Field(
        description="mean over posts of engagements / followers"
    )


class Money(_Model):
    """Money figures in one currency (``null`` currency: no money was recorded)."""

    currency: str | None
    spend: float
    revenue: float
    cpe: float | None = Field(description="spend / engagements")
    cpm: float | None = Field(description="1000 * spend / views")
    cac: float | None = Field(description="spend / new customers")
    roas: float | None = Field(description="revenue / spend")
    new_customers_per_1000: float | None = Field(description="new customers per 1,000 spent")
    engagements_per_1000: float | None = Field(description="engagements per 1,000 spent")


@dataclass
class Tally:
    """Sums of creator views; ``reach`` and ``money`` turn them into figures."""

    posts: int = 0
    views: int = 0
    engagements: int = 0
    clicks: int = 0
    conversions: int = 0
    new_customers: int = 0
    spend: float = 0.0
    revenue: float = 0.0
    # The engagement rate by followers is a mean over posts: a campaign's mean weighs its posts.
    follower_rate_sum: float = 0.0
    follower_rate_posts: int = 0

    def add(self, view: CreatorView) -> None:
        totals = view.totals
        self.posts += view.posts
        self.views += totals.views
        self.engagements += totals.engagements
        self.clicks += view.efficiency.clicks
        self.conversions += totals.conversions
        self.new_customers += totals.new_customers
        self.spend += totals.spend
        self.revenue += totals.revenue
        rate = view.efficiency.engagement_rate_by_followers
        if rate is not None and view.posts:
            self.follower_rate_sum += rate * view.posts
            self.follower_rate_posts += view.posts

    @classmethod
    def of(cls, views: Iterable[CreatorView]) -> Tally:
        tally = cls()
        for view in views:
            tally.add(view)
        return tally

    def reach(self) -> Reach:
        return Reach(
            posts=self.posts,
            views=self.views,
            engagements=self.engagements,
            clicks=self.clicks,
            conversions=self.conversions,
            new_customers=self.new_customers,
            engagement_rate_by_views=metrics.engagement_rate_by_views(self.engagements, self.views),
            engagement_rate_by_followers=metrics.ratio(
                self.follower_rate_sum, self.follower_rate_posts
            ),
        )

    def money(self, currency: str | None) -> Money:
        return Money(
            currency=currency,
            spend=round(self.spend, 6),
            revenue=round(self.revenue, 6),
            cpe=metrics.cpe(self.spend, self.engagements),
            cpm=metrics.cpm(self.spend, self.views),
            cac=metrics.cac(self.spend, self.new_customers),
            roas=metrics.roas(self.revenue, self.spend),
            new_customers_per_1000=metrics.ratio(PER * self.new_customers, self.spend),
            engagements_per_1000=metrics.ratio(PER * self.engagements, self.spend),
        )


def money_by_currency(rows: Iterable[CreatorCampaign]) -> list[Money]:
    """Money figures per currency, currencies in alphabetical order (none last)."""
    tallies: dict[str | None, Tally] = {}
    for row in rows:
        tallies.setdefault(row.currency, Tally()).add(row.view)
    ordered = sorted(tallies, key=lambda currency: (currency is None, currency or ""))
    return [tallies[currency].money(currency) for currency in ordered]


class CampaignValue(_Model):
    """The creator in one campaign."""

    campaign_id: str
    campaign_status: StatusName | None = Field(description="the campaign's own status")
    status: StatusName = Field(description="the creator's status within the campaign")
    started_at: datetime | None = Field(description="the creator's first post in the campaign")
    as_of: datetime | None
    platform: str | None
    followers: int
    tier: str
    reach: Reach
    money: Money


class CampaignPoint(_Model):
    campaign_id: str
    started_at: datetime | None
    currency: str | None
    value: float | None


class ValueTrend(_Model):
    """How a figure moved campaign after campaign (campaigns ordered by ``started_at``)."""

    metric: str
    points: list[CampaignPoint]
    change_per_campaign: float | None = Field(
        description="relative change per campaign from a least-squares line through the "
        "logarithms of the values (within one currency for money); -0.2: 20% lower each campaign"
    )
    verdict: Verdict


class CreatorProfile(_Model):
    creator_id: str
    campaigns: list[CampaignValue]
    reach: Reach = Field(description="over every campaign")
    money: list[Money] = Field(description="over every campaign, one entry per currency")
    platforms: list[str]
    tiers: list[str]
    engagement_rate_trend: ValueTrend
    cac_trend: ValueTrend


def change_per_campaign(points: Sequence[tuple[int, float, str | None]]) -> float | None:
    """Relative change per campaign: the slope of log(value) against the campaign's position,
    fitted within each group (currency) and pooled, so that exchange rates never enter; None
    without two positive values in one group."""
    groups: dict[str | None, list[tuple[int, float]]] = {}
    for position, value, group in points:
        if value > 0:
            groups.setdefault(group, []).append((position, math.log(value)))
    covariance = variance = 0.0
    for members in groups.values():
        if len(members) < 2:
            continue
        mean_x = sum(x for x, _ in members) / len(members)
        mean_y = sum(y for _, y in members) / len(members)
        covariance += sum((x - mean_x) * (y - mean_y) for x, y in members)
        variance += sum((x - mean_x) ** 2 for x, _ in members)
    if variance == 0:
        return None
    return math.exp(covariance / variance) - 1.0


def verdict(change: float | None, higher_is_better: bool) -> Verdict:
    if change is None:
        return "insufficient_data"
    gain = change if higher_is_better else -change
    if gain <= -FADE_PER_CAMPAIGN:
        return "fading"
    if gain >= FADE_PER_CAMPAIGN:
        return "improving"
    return "holding"


def _trend(
    metric: str,
    campaigns: Sequence[CampaignValue],
    values: Sequence[float | None],
    higher_is_better: bool,
    money: bool,
) -> ValueTrend:
    """A money figure is compared within its currency only; a rate needs no currency."""
    points = [
        CampaignPoint(
            campaign_id=c.campaign_id,
            started_at=c.started_at,
            currency=c.money.currency if money else None,
            value=value,
        )
        for c, value in zip(campaigns, values, strict=True)
    ]
    change = change_per_campaign(
        [(i, p.value, p.currency) for i, p in enumerate(points) if p.value is not None]
    )
    return ValueTrend(
        metric=metric,
        points=points,
        change_per_campaign=change,
        verdict=verdict(change, higher_is_better),
    )


def _campaign_value(row: CreatorCampaign, tier_bounds: Sequence[tuple[str, int]]) -> CampaignValue:
    tally = Tally.of([row.view])
    return CampaignValue(
        campaign_id=row.view.campaign_id,
        campaign_status=row.campaign_status,
        status=row.view.status,
        started_at=row.started_at,
        as_of=row.view.as_of,
        platform=row.view.platform,
        followers=row.view.followers,
        tier=tier_of(row.view.followers, tier_bounds),
        reach=tally.reach(),
        money=tally.money(row.currency),
    )


def _start_order(row: CreatorCampaign) -> tuple[bool, float, str]:
    started = row.started_at
    return (started is None, started.timestamp() if started else 0.0, row.view.campaign_id)


def creator_profile(
    creator_id: str, rows: Sequence[CreatorCampaign], tier_bounds: Sequence[tuple[str, int]]
) -> CreatorProfile:
    """The creator across ``rows`` (their views in every campaign), campaigns by start."""
    ordered = sorted(rows, key=_start_order)
    campaigns = [_campaign_value(row, tier_bounds) for row in ordered]
    return CreatorProfile(
        creator_id=creator_id,
        campaigns=campaigns,
        reach=Tally.of(row.view for row in ordered).reach(),
        money=money_by_currency(ordered),
        platforms=sorted({c.platform for c in campaigns if c.platform is not None}),
        tiers=sorted({c.tier for c in campaigns}, key=[t for t, _ in tier_bounds].index),
        engagement_rate_trend=_trend(
            "engagement_rate_by_views",
            campaigns,
            [c.reach.engagement_rate_by_views for c in campaigns],
            higher_is_better=True,
            money=False,
        ),
        cac_trend=_trend(
            "cac", campaigns, [c.money.cac for c in campaigns], higher_is_better=False, money=True
        ),
    )
