"""Posts a campaign team asked to watch, with their polling state.

``next_poll_at`` is when the poller next fetches the post (NULL once the schedule has stopped);
``last_error`` is what went wrong in the latest poll (NULL after a success), ``failures`` how many
polls in a row failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Engine,
    RowMapping,
    String,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.post_refs import PLATFORMS, Platform
from services.storage.models import Base, optional_stored_time, stored_time

ERROR_CHARS = 512


class WatchedPostRow(Base):
    __tablename__ = "watched_posts"

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128))
    posted_at: Mapped[datetime]
    registered_at: Mapped[datetime]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(ERROR_CHARS))
    failures: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class WatchedPost:
    campaign_id: str
    platform: Platform
    post_id: str
    creator_id: str
    posted_at: datetime
    registered_at: datetime
    next_poll_at: datetime | None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0


def _platform(value: str) -> Platform:
    for platform in PLATFORMS:
        if platform == value:
            return platform
    raise ValueError(f"unknown platform {value!r} in watched_posts")


def _post(row: RowMapping) -> WatchedPost:
    return WatchedPost(
        campaign_id=row["campaign_id"],
        platform=_platform(row["platform"]),
        post_id=row["post_id"],
        creator_id=row["creator_id"],
        posted_at=stored_time(row["posted_at"]),
        registered_at=stored_time(row["registered_at"]),
        next_poll_at=optional_stored_time(row["next_poll_at"]),
        last_polled_at=optional_stored_time(row["last_polled_at"]),
        last_success_at=optional_stored_time(row["last_success_at"]),
        last_error=row["last_error"],
        failures=row["failures"],
    )


def _key(campaign_id: str, platform: str, post_id: str) -> ColumnElement[bool]:
    return and_(
        WatchedPostRow.campaign_id == campaign_id,
        WatchedPostRow.platform == platform,
        WatchedPostRow.post_id == post_id,
    )


class WatchedPostRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def register(self, post: WatchedPost) -> bool:
        """Store ``post``; False when the campaign already watches it (nothing changes)."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(WatchedPostRow).values(
                        campaign_id=post.campaign_id,
                        platform=post.platform,
                        post_id=post.post_id,
                        creator_id=post.creator_id,
                        posted_at=post.posted_at,
                        registered_at=post.registered_at,
                        next_poll_at=post.next_poll_at,
                        failures=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, campaign_id: str, platform: str, post_id: str) -> WatchedPost | None:
        query = select(WatchedPostRow.__table__).where(_key(campaign_id, platform, post_id))
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _post(row)

    def of_campaign(self, campaign_id: str) -> list[WatchedPost]:
        table = WatchedPostRow.__table__
        query = (
            select(table)
            .where(table.c.campaign_id == campaign_id)
            .order_by(table.c.registered_at, table.c.platform, table.c.post_id)
        )
        with self._engine.connect() as connection:
            return [_post(row) for row in connection.execute(query).mappings()]

    def delete(self, campaign_id: str, platform: str, post_id: str) -> bool:
        with self._engine.begin() as connection:
            deleted = connection.execute(
                delete(WatchedPostRow).where(_key(campaign_id, platform, post_id))
            )
        return deleted.rowcount > 0

    def due(self, now: datetime, limit: int) -> list[WatchedPost]:
        """Posts whose next poll is at or before ``now``, the longest waiting first."""
        table = WatchedPostRow.__table__
        query = (
            select(table)
            .where(table.c.next_poll_at.is_not(None), table.c.next_poll_at <= now)
            .order_by(table.c.next_poll_at, table.c.campaign_id, table.c.post_id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [_post(row) for row in connection.execute(query).mappings()]

    def record_poll(
        self,
        post: WatchedPost,
        polled_at: datetime,
        next_poll_at: datetime | None,
        error: str | None,
    ) -> None:
        """What the latest poll of ``post`` gave; a post deleted meanwhile stays deleted."""
        values: dict[str, object] = {"last_polled_at": polled_at, "next_poll_at": next_poll_at}
        if error is None:
            values.update(last_success_at=polled_at, last_error=None, failures=0)
        else:
            values.update(last_error=error[:ERROR_CHARS], failures=post.failures + 1)
        with self._engine.begin() as connection:
            connection.execute(
                update(WatchedPostRow)
                .where(_key(post.campaign_id, post.platform, post.post_id))
                .values(**values)
            )
