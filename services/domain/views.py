"""What the world sees of a campaign and of a creator within it: totals, windows, status.

These models are the API's response bodies and what the monitor stores in the database; they are
computed here, from state, by pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.domain import metrics
from services.domain.counters import Counters
from services.domain.freshness import SourceFreshness, source_freshness
from services.domain.money import from_micros
from services.domain.state import CreatorState, PostSnapshot
from services.domain.suspicion import CreatorFlag, FlaggedCreator
from services.domain.tiers import DEFAULT_TIER_BOUNDS, tier_of
from services.domain.windows import BLOCK, WINDOWS, Window, block_start, in_window

StatusName = Literal["healthy", "watch", "decaying", "insufficient_data"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Totals(_View):
    """Lifetime figures. Ratios are ``null`` when their denominator is zero."""

    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    engagements: int
    engagement_rate_by_views: float | None
    spend: float
    conversions: int
    new_customers: int
    revenue: float
    cac: float | None
    roas: float | None


class Efficiency(_View):
    """Lifetime rates beside the totals; each names its denominator."""

    clicks: int
    engagement_rate_by_followers: float | None
    cpe: float | None
    cpm: float | None
    click_through_rate: float | None


class WindowFigures(_View):
    """Figures over an event-time window [start, end)."""

    start: datetime
    end: datetime
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    engagements: int
    engagement_rate_by_views: float | None
    engagement_rate_by_followers: float | None
    spend: float
    conversions: int
    new_customers: int
    revenue: float
    cac: float | None
    roas: float | None
    cpe: float | None
    cpm: float | None


class Reason(_View):
    """Why a status is what it is: which metric moved, from what, to what, over which window."""

    kind: str
    metric: str
    baseline: float | None
    current: float | None
    relative_change: float | None
    window: str


class Contributor(_View):
    """A creator ranked by its share of a campaign's change (lost engagement or added cost)."""

    creator_id: str
    metric: str
    share: float
    baseline: float | None
    current: float | None


class CreatorView(_View):
    campaign_id: str
    creator_id: str
    platform: str | None
    followers: int
    tier: str
    status: StatusName
    reasons: list[Reason]
    posts: int
    totals: Totals
    efficiency: Efficiency
    windows: dict[str, WindowFigures]
    as_of: datetime | None
    updated_at: datetime
    # When the creator's first post in the campaign went out: orders a creator's campaigns.
    # Views stored before it existed have none.
    first_posted_at: datetime | None = None
    flags: list[CreatorFlag] = []
    """Suspicious engagement found on the creator (``docs/suspicious-engagement.md``)."""


class TrendPoint(_View):
    """Figures over one step of the trend, [start, start + step)."""

    start: datetime
    views: int
    engagements: int
    engagement_rate_by_views: float | None
    spend: float
    new_customers: int
    cac: float | None
    cac_to_date: float | None = None
    """Spend over new customers from the trend's start to this step's end: fees are paid at
    posting and customers come over the following days, so the step's own CAC is mostly empty.
    ``null`` until both are non-zero."""


class CampaignView(_View):
    campaign_id: str
    currency: str | None
    status: StatusName
    reasons: list[Reason]
    contributors: list[Contributor] = []
    creators: int
    posts: int
    totals: Totals
    efficiency: Efficiency
    windows: dict[str, WindowFigures]
    trend: list[TrendPoint]
    as_of: datetime | None
    updated_at: datetime
    freshness: list[SourceFreshness] = []
    flagged_creators: list[FlaggedCreator] = []
    """The creators with suspicious-engagement flags, most flags first."""


def _totals(c: Counters) -> Totals:
    spend = from_micros(c.spend_micros)
    revenue = from_micros(c.revenue_micros)
    return Totals(
        views=c.views,
        likes=c.likes,
        comments=c.comments,
        shares=c.shares,
        saves=c.saves,
        engagements=c.engagements,
        engagement_rate_by_views=metrics.engagement_rate_by_views(c.engagements, c.views),
        spend=spend,
        conversions=c.conversions,
        new_customers=c.new_customers,
        revenue=revenue,
        cac=metrics.paid_cac(spend, c.new_customers),
        roas=metrics.roas(revenue, spend),
    )


def _efficiency(c: Counters, posts: Sequence[PostSnapshot]) -> Efficiency:
    spend = from_micros(c.spend_micros)
    return Efficiency(
        clicks=c.clicks,
        engagement_rate_by_followers=metrics.engagement_rate_by_followers(
            p.engagement_rate_by_followers for p in posts
        ),
        cpe=metrics.cpe(spend, c.engagements),
        cpm=metrics.cpm(spend, c.views),
        click_through_rate=metrics.click_through_rate(c.clicks, c.views),
    )


def bucket_totals(creators: Sequence[CreatorState]) -> Mapping[int, Counters]:
    """The creators' counters summed per bucket start: windows and the trend read this once
    rather than every creator's buckets each."""
    if len(creators) == 1:
        return {start: bucket.counters for start, bucket in creators[0].buckets.items()}
    totals: dict[int, Counters] = {}
    for creator in creators:
        for start, bucket in creator.buckets.items():
            found = totals.get(start)
            if found is None:
                found = totals[start] = Counters()
            found.add(bucket.counters)
    return totals


def window_counters(buckets: Mapping[int, Counters], window: Window, end: float) -> Counters:
    start, stop = window.bounds(end)
    total = Counters()
    for counters in in_window(buckets, start, stop):
        total.add(counters)
    return total


def _window_figures(
    buckets: Mapping[int, Counters], posts: Sequence[PostSnapshot], window: Window, end: float
) -> WindowFigures:
    start, stop = window.bounds(end)
    c = window_counters(buckets, window, end)
    totals = _totals(c)
    efficiency = _efficiency(c, [p for p in posts if start <= p.posted_at < stop])
    return WindowFigures(
        start=_utc(start),
        end=_utc(stop),
        clicks=c.clicks,
        engagement_rate_by_followers=efficiency.engagement_rate_by_followers,
        cpe=efficiency.cpe,
        cpm=efficiency.cpm,
        **totals.model_dump(),
    )


TREND_STEP = BLOCK
TREND_STEPS = 28


def trend(buckets: Mapping[int, Counters], watermark: float | None) -> list[TrendPoint]:
    """Figures per six-hour block (UTC) over the seven days of event time up to the watermark; the
    last block is the one still filling."""
    if watermark is None:
        return []
    end = block_start(watermark) + BLOCK
    start = end - TREND_STEP * TREND_STEPS
    steps = [Counters() for _ in range(TREND_STEPS)]
    for at, counters in buckets.items():
        if start <= at < end:
            steps[int((at - start) // TREND_STEP)].add(counters)
    points = []
    to_date = Counters()
    for index, c in enumerate(steps):
        to_date.add(c)
        spend = from_micros(c.spend_micros)
        points.append(
            TrendPoint(
                start=_utc(start + index * TREND_STEP),
                views=c.views,
                engagements=c.engagements,
                engagement_rate_by_views=metrics.engagement_rate_by_views(c.engagements, c.views),
                spend=spend,
                new_customers=c.new_customers,
                cac=metrics.paid_cac(spend, c.new_customers),
                cac_to_date=metrics.paid_cac(
                    from_micros(to_date.spend_micros), to_date.new_customers
                ),
            )
        )
    return points


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _lifetime(creators: Sequence[CreatorState]) -> Counters:
    total = Counters()
    for creator in creators:
        total.add(creator.lifetime)
    return total


def _figures(
    creators: Sequence[CreatorState], buckets: Mapping[int, Counters], watermark: float | None
) -> tuple[Totals, Efficiency, dict[str, WindowFigures], int]:
    posts = [p for creator in creators for p in creator.posts.values()]
    lifetime = _lifetime(creators)
    windows = (
        {w.name: _window_figures(buckets, posts, w, watermark) for w in WINDOWS}
        if watermark is not None
        else {}
    )
    return _totals(lifetime), _efficiency(lifetime, posts), windows, len(posts)


def creator_view(
    creator: CreatorState,
    watermark: float | None,
    status: StatusName,
    reasons: list[Reason],
    updated_at: datetime,
    tier_bounds: Sequence[tuple[str, int]] = DEFAULT_TIER_BOUNDS,
    flags: Sequence[CreatorFlag] = (),
) -> CreatorView:
    totals, efficiency, windows, posts = _figures([creator], bucket_totals([creator]), watermark)
    return CreatorView(
        campaign_id=creator.campaign_id,
        creator_id=creator.creator_id,
        platform=creator.platform,
        followers=creator.followers,
        tier=tier_of(creator.followers, tier_bounds),
        status=status,
        reasons=reasons,
        posts=posts,
        totals=totals,
        efficiency=efficiency,
        windows=windows,
        as_of=_utc(watermark) if watermark is not None else None,
        updated_at=updated_at,
        first_posted_at=_utc(min(p.posted_at for p in creator.posts.values()))
        if creator.posts
        else None,
        flags=list(flags),
    )


def campaign_view(
    campaign_id: str,
    currency: str | None,
    creators: Sequence[CreatorState],
    watermark: float | None,
    status: StatusName,
    reasons: list[Reason],
    updated_at: datetime,
    contributors: Sequence[Contributor] = (),
    flagged: Sequence[FlaggedCreator] = (),
) -> CampaignView:
    buckets = bucket_totals(creators)
    totals, efficiency, windows, posts = _figures(creators, buckets, watermark)
    return CampaignView(
        campaign_id=campaign_id,
        currency=currency,
        status=status,
        reasons=reasons,
        contributors=list(contributors),
        creators=len(creators),
        posts=posts,
        totals=totals,
        efficiency=efficiency,
        windows=windows,
        trend=trend(buckets, watermark),
        as_of=_utc(watermark) if watermark is not None else None,
        updated_at=updated_at,
        freshness=source_freshness(creators, updated_at),
        flagged_creators=list(flagged),
    )
