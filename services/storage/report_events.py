"""The outbox of ``report.weekly`` events and each webhook's cursor over it.

One row per campaign and closed week (a unique key, so recording a week twice records it once);
ids grow, and a webhook subscribed to reports moves its cursor past an event only once its
receiver answered 2xx, as the alert outbox does (``storage.alerts``, ``storage.webhooks``).

A webhook without a cursor row yet starts after the events recorded before it was created, so a
new subscriber does not receive past weeks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base
from services.storage.webhooks import WebhookRepository, WebhookRow

ReportEvents = list[tuple[int, dict[str, Any]]]


class ReportEventRow(Base):
    __tablename__ = "report_events"
    __table_args__ = (
        UniqueConstraint("campaign_id", "week", name="uq_report_events_campaign_week"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    campaign_id: Mapped[str] = mapped_column(String(128))
    week: Mapped[str] = mapped_column(String(8))
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class WebhookReportCursorRow(Base):
    __tablename__ = "webhook_report_cursors"

    webhook_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhooks.webhook_id", ondelete="CASCADE"), primary_key=True
    )
    last_event_id: Mapped[int] = mapped_column(BigInteger)


class ReportEventRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def recorded(self, campaign_id: str, week: str) -> bool:
        query = select(ReportEventRow.id).where(
            ReportEventRow.campaign_id == campaign_id, ReportEventRow.week == week
        )
        with self._engine.connect() as connection:
            return connection.scalar(query) is not None

    def record(self, campaign_id: str, week: str, body: dict[str, Any], now: datetime) -> bool:
        """Append the week's event; False when the campaign's week was already recorded."""
        row = {"campaign_id": campaign_id, "week": week, "body": body, "created_at": now}
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(ReportEventRow).values(row))
        except IntegrityError:
            return False
        return True

    def events_after(self, event_id: int, limit: int = 100) -> ReportEvents:
        """Outbox rows with an id above ``event_id``, oldest first: (id, body)."""
        query = (
            select(ReportEventRow.id, ReportEventRow.body)
            .where(ReportEventRow.id > event_id)
            .order_by(ReportEventRow.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [(row_id, body) for row_id, body in connection.execute(query).all()]

    def cursor(self, webhook_id: str) -> int:
        """The last event the webhook accepted; for a webhook without one yet, the last event
        recorded before it was created."""
        with self._engine.connect() as connection:
            last = connection.scalar(
                select(WebhookReportCursorRow.last_event_id).where(
                    WebhookReportCursorRow.webhook_id == webhook_id
                )
            )
            if last is not None:
                return int(last)
            created = select(WebhookRow.created_at).where(WebhookRow.webhook_id == webhook_id)
            before = select(func.max(ReportEventRow.id)).where(
                ReportEventRow.created_at < created.scalar_subquery()
            )
            return int(connection.scalar(before) or 0)

    def delivered(self, webhook_id: str, event_id: int) -> None:
        """A receiver accepted ``event_id``: move the cursor (never backwards) and clear any run
        of failures."""
        with self._engine.begin() as connection:
            last = connection.scalar(
                select(WebhookReportCursorRow.last_event_id).where(
                    WebhookReportCursorRow.webhook_id == webhook_id
                )
            )
            if last is None:
                connection.execute(
                    insert(WebhookReportCursorRow).values(
                        webhook_id=webhook_id, last_event_id=event_id
                    )
                )
            elif last < event_id:
                connection.execute(
                    update(WebhookReportCursorRow)
                    .where(WebhookReportCursorRow.webhook_id == webhook_id)
                    .values(last_event_id=event_id)
                )
            WebhookRepository.clear_failures(connection, webhook_id)
