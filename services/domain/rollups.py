"""Daily rollups: a creator's figures per event-time UTC day, as the monitor's state holds them.

A rollup is the day's full figure recomputed from state, never an increment, so writing it again
after a replay or a late event leaves exactly the figure the state now holds. State keeps its
buckets for a retention period; a day is rolled up only while every bucket of it is still kept,
and a day older than that keeps the figure last written for it.

Days are UTC days: the state's six-hour blocks are aligned to UTC, so a UTC day is an exact union
of buckets at either resolution (``docs/weekly-review.md`` says how other time zones are cut).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.domain.counters import Counters
from services.domain.state import CreatorState
from services.domain.windows import DAY, block_start


@dataclass(frozen=True, slots=True)
class DailyRollup:
    campaign_id: str
    creator_id: str
    day: date
    counters: Counters


def day_of(at: float) -> date:
    return datetime.fromtimestamp(at, UTC).date()


def day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def first_complete_day(watermark: float, retention: float) -> int:
    """The start of the oldest UTC day whose buckets the state still holds in full.

    State drops buckets older than the block of its watermark minus the retention, as of the last
    time it settled; that watermark is at most the current one, so nothing from this block on has
    been dropped."""
    kept_from = block_start(watermark - retention)
    return -(-kept_from // DAY) * DAY


def daily_rollups(
    creator: CreatorState, watermark: float | None, retention: float
) -> list[DailyRollup]:
    """The creator's figures for every UTC day the state holds in full, oldest first."""
    if watermark is None:
        return []
    complete_from = first_complete_day(watermark, retention)
    days: dict[int, Counters] = {}
    for start, bucket in creator.buckets.items():
        if start < complete_from:
            continue
        day = int(start // DAY) * DAY
        found = days.get(day)
        if found is None:
            found = days[day] = Counters()
        found.add(bucket.counters)
    return [
        DailyRollup(creator.campaign_id, creator.creator_id, day_of(start), counters)
        for start, counters in sorted(days.items())
    ]


@dataclass(frozen=True, slots=True)
class PostFigures:
    """A post's figures as its latest snapshot gives them (lifetime to ``observed_at``)."""

    campaign_id: str
    creator_id: str
    post_id: str
    posted_at: datetime
    observed_at: datetime
    counters: Counters


def post_figures(creator: CreatorState) -> list[PostFigures]:
    """Every post of the creator the state knows, with its latest counts; rewritten whole each
    time, like the day rollups, so a revised snapshot replaces what was stored."""
    return [
        PostFigures(
            creator.campaign_id,
            creator.creator_id,
            post_id,
            datetime.fromtimestamp(post.posted_at, UTC),
            datetime.fromtimestamp(post.observed_at, UTC),
            post.counts,
        )
        for post_id, post in sorted(creator.posts.items())
    ]
