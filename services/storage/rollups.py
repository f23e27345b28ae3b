"""Daily rollups per creator-in-campaign and each post's latest figures: reads for reports,
idempotent writes from the monitor.

A row is the day's (or the post's) full figure, so a write is an upsert that overwrites: replaying
events or receiving a late one rewrites it with what the state now holds, never adds to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Engine, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.counters import Counters
from services.domain.rollups import DailyRollup, PostFigures
from services.storage.models import Base, stored_time
from services.storage.repository import upsert

_COUNTERS = tuple(Counters.__dataclass_fields__)


class _PostCounts:
    """The counts a post's snapshot carries; a day's rollup adds the money."""

    views: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    saves: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)


class DailyRollupRow(_PostCounts, Base):
    __tablename__ = "daily_rollups"
    __table_args__ = (Index("ix_daily_rollups_day", "day"),)

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    spend_micros: Mapped[int] = mapped_column(BigInteger)
    conversions: Mapped[int] = mapped_column(BigInteger)
    new_customers: Mapped[int] = mapped_column(BigInteger)
    revenue_micros: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class PostFiguresRow(_PostCounts, Base):
    __tablename__ = "post_figures"
    __table_args__ = (Index("ix_post_figures_posted_at", "campaign_id", "posted_at"),)

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    posted_at: Mapped[datetime]
    observed_at: Mapped[datetime]
    updated_at: Mapped[datetime]


_POST_COUNTERS = ("views", "likes", "comments", "shares", "saves", "clicks")


def _post_row(post: PostFigures, now: datetime) -> dict[str, Any]:
    return {
        "campaign_id": post.campaign_id,
        "creator_id": post.creator_id,
        "post_id": post.post_id,
        "posted_at": post.posted_at,
        "observed_at": post.observed_at,
        **{name: getattr(post.counters, name) for name in _POST_COUNTERS},
        "updated_at": now,
    }


def _row(rollup: DailyRollup, now: datetime) -> dict[str, Any]:
    return {
        "campaign_id": rollup.campaign_id,
        "creator_id": rollup.creator_id,
        "day": rollup.day,
        **dict(zip(_COUNTERS, rollup.counters.to_list(), strict=True)),
        "updated_at": now,
    }


class RollupRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(
        self, rollups: Sequence[DailyRollup], now: datetime, posts: Sequence[PostFigures] = ()
    ) -> None:
        """Write each day's and each post's figures, overwriting what was stored for them, in
        one transaction."""
        # A key twice in one batch would make PostgreSQL's ON CONFLICT fail; the last one wins.
        rows = {(r.campaign_id, r.creator_id, r.day): _row(r, now) for r in rollups}
        post_rows = {(p.campaign_id, p.creator_id, p.post_id): _post_row(p, now) for p in posts}
        if not rows and not post_rows:
            return
        with self._engine.begin() as connection:
            upsert(connection, DailyRollupRow, list(rows.values()))
            upsert(connection, PostFiguresRow, list(post_rows.values()))

    def posts(
        self, campaign_id: str, posted_from: datetime, posted_to: datetime
    ) -> list[PostFigures]:
        """The campaign's posts published in [posted_from, posted_to), with their latest figures."""
        columns = [getattr(PostFiguresRow, name) for name in _POST_COUNTERS]
        query = (
            select(
                PostFiguresRow.creator_id,
                PostFiguresRow.post_id,
                PostFiguresRow.posted_at,
                PostFiguresRow.observed_at,
                *columns,
            )
            .where(
                PostFiguresRow.campaign_id == campaign_id,
                PostFiguresRow.posted_at >= posted_from,
                PostFiguresRow.posted_at < posted_to,
            )
            .order_by(PostFiguresRow.creator_id, PostFiguresRow.post_id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            PostFigures(
                campaign_id,
                row[0],
                row[1],
                stored_time(row[2]),
                stored_time(row[3]),
                Counters(**dict(zip(_POST_COUNTERS, (int(v) for v in row[4:]), strict=True))),
            )
            for row in rows
        ]

    def read(
        self, first_day: date, last_day: date, campaign_id: str | None = None
    ) -> list[DailyRollup]:
        """The rollups of the days in [first_day, last_day], of one campaign or of all."""
        columns = [getattr(DailyRollupRow, name) for name in _COUNTERS]
        query = select(
            DailyRollupRow.campaign_id, DailyRollupRow.creator_id, DailyRollupRow.day, *columns
        ).where(DailyRollupRow.day >= first_day, DailyRollupRow.day <= last_day)
        if campaign_id is not None:
            query = query.where(DailyRollupRow.campaign_id == campaign_id)
        query = query.order_by(
            DailyRollupRow.campaign_id, DailyRollupRow.creator_id, DailyRollupRow.day
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            DailyRollup(row[0], row[1], row[2], Counters.from_list([int(v) for v in row[3:]]))
            for row in rows
        ]

    def campaign_ids(self, first_day: date, last_day: date) -> list[str]:
        """The campaigns with a rollup in [first_day, last_day]."""
        query = (
            select(DailyRollupRow.campaign_id)
            .where(DailyRollupRow.day >= first_day, DailyRollupRow.day <= last_day)
            .distinct()
            .order_by(DailyRollupRow.campaign_id)
        )
        with self._engine.connect() as connection:
            return list(connection.scalars(query).all())
