"""The diagnostic sections of the weekly review, each from its own inputs."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.domain import metrics
from services.domain.alerts import Alert
from services.domain.counters import Counters
from services.domain.money import from_micros
from services.domain.rollups import DailyRollup, PostFigures
from services.domain.views import CreatorView, StatusName
from services.domain.weekly_model import (
    AlertLine,
    AlertsOfWeek,
    CreatorWeek,
    FlagsSection,
    FunnelStep,
    PartnershipCandidate,
    PostNote,
    Posts,
    SuspiciousEngagement,
    WatchedCreator,
    WeekFigures,
)
from services.domain.weeks import IsoWeek, by_creator, in_week

PARTNERSHIP_WEEKS = 4
SHOWN_POSTS = 3
STATUS_RANK: dict[StatusName | None, int] = {
    "decaying": 0,
    "watch": 1,
    "healthy": 2,
    "insufficient_data": 3,
    None: 4,
}


def funnel(figures: WeekFigures) -> list[FunnelStep]:
    counts = [
        ("views", figures.views),
        ("engagements", figures.engagements),
        ("clicks", figures.clicks),
        ("conversions", figures.conversions),
    ]
    steps = []
    previous: int | None = None
    for step, count in counts:
        rate = metrics.ratio(count, previous) if previous is not None else None
        steps.append(
            FunnelStep.model_validate({"step": step, "count": count, "rate_from_previous": rate})
        )
        previous = count
    return steps


def creator_weeks(
    rollups: Sequence[DailyRollup], week: IsoWeek, views: dict[str, CreatorView]
) -> list[CreatorWeek]:
    """The week's creators, most valuable first (revenue less spend, then new customers)."""
    rows = []
    for creator_id, c in by_creator(in_week(rollups, week)).items():
        view = views.get(creator_id)
        spend, revenue = from_micros(c.spend_micros), from_micros(c.revenue_micros)
        rows.append(
            CreatorWeek(
                creator_id=creator_id,
                tier=view.tier if view else None,
                platform=view.platform if view else None,
                status=view.status if view else None,
                spend=spend,
                new_customers=c.new_customers,
                revenue=revenue,
                value=round(revenue - spend, 6),
                cac=metrics.paid_cac(spend, c.new_customers),
                roas=metrics.roas(revenue, spend),
                engagement_rate_by_views=metrics.engagement_rate_by_views(c.engagements, c.views),
            )
        )
    return sorted(rows, key=lambda r: (-r.value, -r.new_customers, r.creator_id))


def post_notes(posts: Iterable[PostFigures]) -> Posts:
    """The posts published in the week ranked by engagement rate by views to date; posts without
    views yet are left out of the ranking (their rate is unknown), not ranked last."""
    published = list(posts)
    notes = sorted(
        (
            PostNote(
                creator_id=p.creator_id,
                post_id=p.post_id,
                posted_at=p.posted_at,
                views=p.counters.views,
                engagements=p.counters.engagements,
                clicks=p.counters.clicks,
                engagement_rate_by_views=rate,
            )
            for p in published
            if (rate := metrics.engagement_rate_by_views(p.counters.engagements, p.counters.views))
            is not None
        ),
        key=lambda n: (-(n.engagement_rate_by_views or 0.0), n.creator_id, n.post_id),
    )
    best = notes[:SHOWN_POSTS]
    worst = [n for n in reversed(notes) if n not in best][:SHOWN_POSTS]
    return Posts(published=len(published), best=best, worst=worst)


def decay_watch(views: Iterable[CreatorView]) -> list[WatchedCreator]:
    watched = [v for v in views if v.status in ("decaying", "watch")]
    watched.sort(key=lambda v: (STATUS_RANK[v.status], v.creator_id))
    return [
        WatchedCreator(creator_id=v.creator_id, status=v.status, reasons=v.reasons) for v in watched
    ]


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return (later - earlier).total_seconds() / 3600 if later is not None else None


def alerts_of_week(alerts: Iterable[Alert], week: IsoWeek) -> AlertsOfWeek:
    start, end = week.start(), week.end()

    def during(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    lines = [
        AlertLine(
            alert_id=a.alert_id,
            cause=a.cause,
            severity=a.severity,
            state=a.state,
            summary=a.summary,
            creator_id=a.creator_id,
            opened_at=a.opened_at,
            acknowledged_at=a.acknowledged_at,
            resolved_at=a.resolved_at,
            hours_to_acknowledge=_hours(a.acknowledged_at, a.opened_at),
        )
        for a in sorted(alerts, key=lambda a: (a.opened_at, a.alert_id))
        if during(a.opened_at) or during(a.acknowledged_at) or during(a.resolved_at)
    ]
    acknowledged = [line for line in lines if during(line.acknowledged_at)]
    waits = [
        line.hours_to_acknowledge for line in acknowledged if line.hours_to_acknowledge is not None
    ]
    return AlertsOfWeek(
        opened=sum(during(line.opened_at) for line in lines),
        acknowledged=len(acknowledged),
        resolved=sum(during(line.resolved_at) for line in lines),
        median_hours_to_acknowledge=statistics.median(waits) if waits else None,
        items=lines,
    )


def partnership_candidates(
    rollups: Sequence[DailyRollup],
    week: IsoWeek,
    views: dict[str, CreatorView],
    target_cac: float | None,
) -> list[PartnershipCandidate]:
    """Creators whose returns held over the last four weeks: new customers in every one of them,
    the last week at least half their weekly average, and over the four weeks revenue at least
    the spend (or, without revenue, CAC within the target)."""
    weeks = [week.shifted(-back) for back in reversed(range(PARTNERSHIP_WEEKS))]
    per_week = [by_creator(in_week(rollups, w)) for w in weeks]
    candidates = []
    for creator_id in sorted(set().union(*per_week)):
        counters = [found.get(creator_id, Counters()) for found in per_week]
        customers = [c.new_customers for c in counters]
        total = Counters()
        for c in counters:
            total.add(c)
        spend, revenue = from_micros(total.spend_micros), from_micros(total.revenue_micros)
        cac = metrics.paid_cac(spend, total.new_customers)
        if min(customers) == 0 or customers[-1] < sum(customers) / len(customers) / 2:
            continue
        if revenue > 0 and revenue < spend:
            continue
        if revenue == 0 and target_cac is not None and cac is not None and cac > target_cac:
            continue
        view = views.get(creator_id)
        candidates.append(
            PartnershipCandidate(
                creator_id=creator_id,
                tier=view.tier if view else None,
                weekly_new_customers=customers,
                weekly_roas=[
                    metrics.roas(from_micros(c.revenue_micros), from_micros(c.spend_micros))
                    for c in counters
                ],
                four_week_cac=cac,
            )
        )
    return candidates


def suspicious_engagement(views: Sequence[CreatorView], week: IsoWeek) -> FlagsSection:
    """The flags the monitor holds now that were found before the week ended; a flag keeps its
    first time, so a creator flagged in an earlier week is still listed."""
    items = [
        SuspiciousEngagement(
            creator_id=view.creator_id,
            kind=flag.kind,
            post_id=flag.post_id,
            since=flag.since,
            evidence=dict(flag.evidence),
        )
        for view in views
        for flag in view.flags
        if flag.since < week.end()
    ]
    items.sort(key=lambda item: (item.since or week.end(), item.creator_id))
    return FlagsSection(
        available=True,
        note="Flags found up to the end of the week, as the monitor holds them now.",
        items=items,
    )
