"""Tables holding the latest status of every campaign and creator.

``body`` is the API response (a ``CampaignView`` or ``CreatorView`` as JSON); the other columns
are copied out of it only to filter, order and look up rows without parsing bodies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON(),
    }


class CampaignStatus(Base):
    __tablename__ = "campaign_status"

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    currency: Mapped[str | None] = mapped_column(String(3))
    as_of: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


class CreatorStatus(Base):
    __tablename__ = "creator_status"

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    as_of: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


def stored_time(at: datetime) -> datetime:
    """A time read back from the database: SQLite hands back naive datetimes, and everything
    stored is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def optional_stored_time(at: datetime | None) -> datetime | None:
    return None if at is None else stored_time(at)
