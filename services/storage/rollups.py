"""Daily rollups per creator-in-campaign: reads for reports, idempotent writes from the monitor.

A row is the day's full figure, so a write is an upsert that overwrites: replaying events or
receiving a late one rewrites the day with what the state now holds, never adds to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Engine, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.counters import Counters
from services.domain.rollups import DailyRollup
from services.storage.models import Base
from services.storage.repository import upsert

_COUNTERS = tuple(Counters.__dataclass_fields__)


class DailyRollupRow(Base):
    __tablename__ = "daily_rollups"
    __table_args__ = (Index("ix_daily_rollups_day", "day"),)

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    saves: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    spend_micros: Mapped[int] = mapped_column(BigInteger)
    conversions: Mapped[int] = mapped_column(BigInteger)
    new_customers: Mapped[int] = mapped_column(BigInteger)
    revenue_micros: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


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

    def save(self, rollups: Sequence[DailyRollup], now: datetime) -> None:
        """Write each day's figure, overwriting what was stored for it, in one transaction."""
        if not rollups:
            return
        # A key twice in one batch would make PostgreSQL's ON CONFLICT fail; the last one wins.
        rows = {(r.campaign_id, r.creator_id, r.day): _row(r, now) for r in rollups}
        with self._engine.begin() as connection:
            upsert(connection, DailyRollupRow, list(rows.values()))

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
