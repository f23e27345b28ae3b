"""The weekly review, computed from daily rollups, the current creator views and the alerts.

Pure: the service layer (``services.service_layer.reports``) reads the inputs and the API, the
CLI and the notifier hand out what this returns, so every figure is computed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.domain.alerts import Alert
from services.domain.rollups import DailyRollup, PostFigures
from services.domain.views import CreatorView, StatusName
from services.domain.weekly_model import (
    BudgetMovesSection,
    Change,
    CreatorWeek,
    PartnershipCandidate,
    PortfolioLine,
    PortfolioReport,
    Summary,
    WatchedCreator,
    WeekFigures,
    WeeklyReport,
    WeekPoint,
)
from services.domain.weekly_sections import (
    STATUS_RANK,
    alerts_of_week,
    creator_weeks,
    decay_watch,
    funnel,
    partnership_candidates,
    post_notes,
    suspicious_engagement,
)
from services.domain.weeks import IsoWeek, week_figures

HISTORY_WEEKS = 5
BUDGET_NOT_AVAILABLE = BudgetMovesSection(
    available=False, note="No budget recommendation was computed for this review."
)


@dataclass(frozen=True)
class ReviewInputs:
    """What a campaign's review is computed from; ``rollups`` cover at least the five weeks up
    to ``week`` (older ones are ignored)."""

    campaign_id: str
    week: IsoWeek
    rollups: Sequence[DailyRollup]
    creators: Sequence[CreatorView] = ()
    posts: Sequence[PostFigures] = ()
    alerts: Sequence[Alert] = ()
    currency: str | None = None
    target_cac: float | None = None
    time_zone: str | None = None
    status: StatusName | None = None
    budget_moves: BudgetMovesSection = field(default=BUDGET_NOT_AVAILABLE)


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
        posts=post_notes(inputs.posts),
        decay_watch=watched,
        alerts=alerts_of_week(inputs.alerts, week),
        suspicious_engagement=suspicious_engagement(inputs.creators, week),
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
