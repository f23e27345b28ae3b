"""ISO weeks of UTC days, and the daily rollups added up over them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from services.domain import metrics
from services.domain.counters import Counters
from services.domain.money import from_micros
from services.domain.rollups import DailyRollup
from services.domain.weekly_model import WeekFigures

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


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


def in_week(rollups: Iterable[DailyRollup], week: IsoWeek) -> list[DailyRollup]:
    first, last = week.first_day, week.last_day
    return [r for r in rollups if first <= r.day <= last]


def total(rollups: Iterable[DailyRollup]) -> Counters:
    total = Counters()
    for rollup in rollups:
        total.add(rollup.counters)
    return total


def week_figures(rollups: Iterable[DailyRollup], week: IsoWeek) -> WeekFigures:
    """The week's figures: the sum of its days' rollups."""
    c = total(in_week(rollups, week))
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


def by_creator(rollups: Iterable[DailyRollup]) -> dict[str, Counters]:
    totals: dict[str, Counters] = {}
    for rollup in rollups:
        totals.setdefault(rollup.creator_id, Counters()).add(rollup.counters)
    return totals
