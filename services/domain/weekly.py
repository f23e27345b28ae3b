"""The weekly review, computed from daily rollups, the current creator views and the alerts.

Pure: the service layer (``services.service_layer.reports``) reads the inputs and the API, the
CLI and the notifier hand out what this returns, so every figure is computed in one place.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.domain import metrics
from services.domain.alerts import Alert
from services.domain.counters import Counters
from services.domain.money import from_micros
from services.domain.rollups import DailyRollup
from services.domain.views import CreatorView, StatusName
from services.domain.weekly_model import (
    AlertLine,
    AlertsOfWeek,
    BudgetMovesSection,
    Change,
    CreatorWeek,
    FlagsSection,
    FunnelStep,
    PartnershipCandidate,
    PortfolioLine,
    PortfolioReport,
    PostNote,
    Posts,
    Summary,
    WatchedCreator,
    WeekFigures,
    WeeklyReport,
    WeekPoint,
)

HISTORY_WEEKS = 5
PARTNERSHIP_WEEKS = 4
SHOWN_POSTS = 3
WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
STATUS_RANK: dict[StatusName | None, int] = {
    "decaying": 0,
    "watch": 1,
    "healthy": 2,
    "insufficient_data": 3,
    None: 4,
}
POSTS_SOURCE = (
    "Per-post figures are not kept in the daily rollups: these are each creator's lifetime "
    "engagements per post from the current creator views, not this week's alone."
)
FLAGS_NOT_AVAILABLE = FlagsSection(
    available=False, note="Suspicious-engagement flags are not available in this version."
)
BUDGET_NOT_AVAILABLE = BudgetMovesSection(
    available=False, note="Budget recommendations are not available in this version."
)


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W48``; a ValueError saying what is wrong otherwise."""
        match = WEEK_PATTERN.match(text)
        if match is None:
            raise ValueError(f"'{text}' is not an ISO week such as 2026-W48")
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {week}") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        calendar = day.isocalendar()
        return cls(calendar.year, calendar.week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), UTC)

    def end(self) -> datetime:
        return self.start() + timedelta(days=7)

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.first_day + timedelta(weeks=weeks))


@dataclass(frozen=True)
class ReviewInputs:
    """What a campaign's review is computed from; ``rollups`` cover at least the five weeks up
    to ``week`` (older ones are ignored)."""

    campaign_id: str
    week: IsoWeek
    rollups: Sequence[DailyRollup]
    creators: Sequence[CreatorView] = ()
    alerts: Sequence[Alert] = ()
    currency: str | None = None
    target_cac: float | None = None
    time_zone: str | None = None
    status: StatusName | None = None
    flags: FlagsSection = field(default=FLAGS_NOT_AVAILABLE)
    budget_moves: BudgetMovesSection = field(default=BUDGET_NOT_AVAILABLE)


def _in_week(rollups: Iterable[DailyRollup], week: IsoWeek) -> list[DailyRollup]:
    first, last = week.first_day, week.last_day
    return [r for r in rollups if first <= r.day <= last]


def _sum(rollups: Iterable[DailyRollup]) -> Counters:
    total = Counters()
    for rollup in rollups:
        total.add(rollup.counters)
    return total


def week_figures(rollups: Iterable[DailyRollup], week: IsoWeek) -> WeekFigures:
    """The week's figures: the sum of its days' rollups."""
    c = _sum(_in_week(rollups, week))
    spend, revenue = from_micros(c.spend_micros), from_micros(c.revenue_micros)
    return WeekFigures(
        week=week.label,
        first_day=week.first_day,
        last_day=week.last_day,
        views=c.views,
        engagements=c.engagements,
        clicks=c.clicks,
        conversions=c.conversions,
        new_customers=c.new_customers,
        spend=spend,
        revenue=revenue,
        cac=metrics.paid_cac(spend, c.new_customers),
        roas=metrics.roas(revenue, spend),
        engagement_rate_by_views=metrics.engagement_rate_by_views(c.engagements, c.views),
    )


def _change(metric: str, now: float | None, before: float | None) -> Change:
    relative = (now - before) / before if now is not None and before else None
    return Change(metric=metric, this_week=now, last_week=before, relative=relative)


def _money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return "n/a"
    return f"{currency} {amount:,.2f}" if currency else f"{amount:,.2f}"


def headline(now: WeekFigures, before: WeekFigures, target: float | None, cur: str | None) -> str:
    result = f"{now.new_customers} new customers for {_money(now.spend, cur)}"
    if now.cac is not None and target is not None:
        gap = (now.cac - target) / target
        side = "above" if gap > 0 else "below"
        return (
            f"CAC {_money(now.cac, cur)} against a target of {_money(target, cur)} "
            f"({abs(gap):.0%} {side}); {result}"
        )
    return f"{result}; CAC {_money(now.cac, cur)} (last week {_money(before.cac, cur)})"


def decision(
    status: StatusName | None,
    now: WeekFigures,
    target: float | None,
    creators: Sequence[CreatorWeek],
    watched: Sequence[WatchedCreator],
    candidates: Sequence[PartnershipCandidate],
) -> str:
    """The one decision the week asks of the team, from the most to the least pressing."""
    if status == "decaying":
        names = ", ".join(w.creator_id for w in watched[:3]) or "the campaign's creators"
        return f"The campaign is decaying: decide whether to pause, brief again or replace {names}."
    if now.cac is not None and target is not None and now.cac > target:
        laggard = creators[-1].creator_id if creators else "the weakest creators"
        return (
            f"CAC is {(now.cac - target) / target:.0%} above target: decide whether to move "
            f"budget away from {laggard}."
        )
    if now.spend > 0 and now.new_customers == 0:
        return "Spend brought no new customers this week: check the creators' codes and links."
    if candidates:
        names = ", ".join(c.creator_id for c in candidates[:3])
        return f"Keep course, and decide whether to extend the partnership with {names}."
    return "Keep course: no change needed this week."


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


def _by_creator(rollups: Iterable[DailyRollup]) -> dict[str, Counters]:
    totals: dict[str, Counters] = {}
    for rollup in rollups:
        totals.setdefault(rollup.creator_id, Counters()).add(rollup.counters)
    return totals


def creator_weeks(
    rollups: Sequence[DailyRollup], week: IsoWeek, views: dict[str, CreatorView]
) -> list[CreatorWeek]:
    """The week's creators, most valuable first (revenue less spend, then new customers)."""
    rows = []
    for creator_id, c in _by_creator(_in_week(rollups, week)).items():
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


def post_notes(views: Iterable[CreatorView]) -> Posts:
    notes = sorted(
        (
            PostNote(
                creator_id=v.creator_id,
                posts=v.posts,
                engagements_per_post=v.totals.engagements / v.posts,
            )
            for v in views
            if v.posts
        ),
        key=lambda n: (-n.engagements_per_post, n.creator_id),
    )
    best = notes[:SHOWN_POSTS]
    worst = [n for n in reversed(notes) if n not in best][:SHOWN_POSTS]
    return Posts(source=POSTS_SOURCE, best=best, worst=worst)


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
    per_week = [_by_creator(_in_week(rollups, w)) for w in weeks]
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


def day_boundaries(time_zone: str | None, week: IsoWeek) -> str:
    if time_zone is None:
        return "UTC days (00:00 to 24:00 UTC)."
    offset = week.start().astimezone(ZoneInfo(time_zone)).utcoffset() or timedelta()
    hours = offset.total_seconds() / 3600
    return (
        f"UTC days: {time_zone} was UTC{hours:+g} h when the week began, so each day here "
        f"starts at {(24 + hours) % 24:g}:00 local time (state keeps six-hour UTC blocks, so "
        "days cannot be cut at local midnight)."
    )


def history(rollups: Sequence[DailyRollup], week: IsoWeek) -> list[WeekPoint]:
    points = []
    for back in reversed(range(HISTORY_WEEKS)):
        figures = week_figures(rollups, week.shifted(-back))
        points.append(
            WeekPoint(
                week=figures.week,
                cac=figures.cac,
                engagement_rate_by_views=figures.engagement_rate_by_views,
                spend=figures.spend,
                new_customers=figures.new_customers,
            )
        )
    return points


def weekly_report(inputs: ReviewInputs) -> WeeklyReport:
    week, rollups, cur = inputs.week, inputs.rollups, inputs.currency
    views = {v.creator_id: v for v in inputs.creators}
    now, before = week_figures(rollups, week), week_figures(rollups, week.shifted(-1))
    creators = creator_weeks(rollups, week, views)
    watched = decay_watch(inputs.creators)
    candidates = partnership_candidates(rollups, week, views, inputs.target_cac)
    summary = Summary(
        headline=headline(now, before, inputs.target_cac, cur),
        target_cac=inputs.target_cac,
        status=inputs.status,
        decision=decision(inputs.status, now, inputs.target_cac, creators, watched, candidates),
        this_week=now,
        last_week=before,
        changes=[
            _change("spend", now.spend, before.spend),
            _change("new_customers", now.new_customers, before.new_customers),
            _change("cac", now.cac, before.cac),
            _change("roas", now.roas, before.roas),
        ],
    )
    return WeeklyReport(
        campaign_id=inputs.campaign_id,
        week=week.label,
        currency=cur,
        time_zone=inputs.time_zone,
        day_boundaries=day_boundaries(inputs.time_zone, week),
        summary=summary,
        funnel=funnel(now),
        creators=creators,
        posts=post_notes(inputs.creators),
        decay_watch=watched,
        alerts=alerts_of_week(inputs.alerts, week),
        suspicious_engagement=inputs.flags,
        budget_moves=inputs.budget_moves,
        partnership_candidates=candidates,
        history=history(rollups, week),
    )


def _cac_gap(line: PortfolioLine) -> float:
    cac, target = line.this_week.cac, line.target_cac
    if cac is None:
        return 0.0
    return cac / target if target else cac / (line.last_week.cac or cac)


def portfolio(week: IsoWeek, reports: Iterable[WeeklyReport]) -> PortfolioReport:
    """Campaigns worst first: by status, then CAC against target (or against last week)."""
    lines = [
        PortfolioLine(
            campaign_id=r.campaign_id,
            status=r.summary.status,
            headline=r.summary.headline,
            decision=r.summary.decision,
            this_week=r.summary.this_week,
            last_week=r.summary.last_week,
            target_cac=r.summary.target_cac,
        )
        for r in reports
    ]
    lines.sort(key=lambda line: (STATUS_RANK[line.status], -_cac_gap(line), line.campaign_id))
    return PortfolioReport(week=week.label, campaigns=lines)
