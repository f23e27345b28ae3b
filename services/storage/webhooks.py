"""Webhook subscriptions with their delivery cursors, and campaign configurations.

A webhook's cursor is the id of the last ``alert_events`` row (the alert outbox) delivered to it
with a 2xx answer; the notifier delivers the rows after it, in id order, and moves it only after a
receiver accepted one. A new webhook starts at the current end of the outbox: it is told about
state changes from its creation on, not about the whole history.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Engine,
    ForeignKey,
    RowMapping,
    String,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.config import CampaignConfig
from services.domain.money import MICROS_PER_UNIT, to_micros
from services.storage.alerts import AlertEventRow
from services.storage.models import Base

WebhookFormat = Literal["generic", "slack"]


class WebhookRow(Base):
    __tablename__ = "webhooks"

    webhook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    active: Mapped[bool]


class WebhookCursorRow(Base):
    __tablename__ = "webhook_cursors"

    webhook_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhooks.webhook_id", ondelete="CASCADE"), primary_key=True
    )
    last_event_id: Mapped[int] = mapped_column(BigInteger)


class CampaignConfigRow(Base):
    """Money is kept in integer micro-units, as everywhere else (see ``services.domain.money``)."""

    __tablename__ = "campaign_configs"

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    target_cac_micros: Mapped[int | None] = mapped_column(BigInteger)
    budget_micros: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    sensitivity: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    url: str
    format: WebhookFormat
    secret: str = field(repr=False)
    created_at: datetime
    active: bool


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        webhook_id=row["webhook_id"],
        url=row["url"],
        format="slack" if row["format"] == "slack" else "generic",
        secret=row["secret"],
        created_at=_aware(row["created_at"]),
        active=row["active"],
    )


class WebhookRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, url: str, format: WebhookFormat, secret: str | None = None) -> Webhook:
        """Register an active webhook whose cursor is the newest outbox event."""
        webhook = Webhook(
            webhook_id=f"wh_{uuid.uuid4().hex}",
            url=url,
            format=format,
            secret=secret if secret is not None else new_secret(),
            created_at=datetime.now(UTC),
            active=True,
        )
        with self._engine.begin() as connection:
            head = connection.scalar(select(func.max(AlertEventRow.id))) or 0
            connection.execute(insert(WebhookRow).values(**asdict(webhook)))
            connection.execute(
                insert(WebhookCursorRow).values(webhook_id=webhook.webhook_id, last_event_id=head)
            )
        return webhook

    def list_active(self) -> list[Webhook]:
        table = WebhookRow.__table__
        query = select(table).where(table.c.active).order_by(table.c.created_at)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_webhook(row) for row in rows]

    def deactivate(self, webhook_id: str) -> bool:
        """Stop deliveries to a webhook; False when no active webhook has that id."""
        query = (
            update(WebhookRow)
            .where(WebhookRow.webhook_id == webhook_id, WebhookRow.active)
            .values(active=False)
        )
        with self._engine.begin() as connection:
            return connection.execute(query).rowcount == 1

    def cursor(self, webhook_id: str) -> int:
        query = select(WebhookCursorRow.last_event_id).where(
            WebhookCursorRow.webhook_id == webhook_id
        )
        with self._engine.connect() as connection:
            last = connection.scalar(query)
        if last is None:
            raise KeyError(webhook_id)
        return last

    def advance(self, webhook_id: str, event_id: int) -> None:
        """Record that the outbox events up to ``event_id`` reached the webhook; never backwards."""
        query = (
            update(WebhookCursorRow)
            .where(
                WebhookCursorRow.webhook_id == webhook_id,
                WebhookCursorRow.last_event_id < event_id,
            )
            .values(last_event_id=event_id)
        )
        with self._engine.begin() as connection:
            connection.execute(query)


def _decimal(micros: int | None) -> Decimal | None:
    return None if micros is None else Decimal(micros) / MICROS_PER_UNIT


class CampaignConfigRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def save(self, config: CampaignConfig) -> None:
        """Insert or replace a campaign's configuration."""
        row = {
            "campaign_id": config.campaign_id,
            "target_cac_micros": None
            if config.target_cac is None
            else to_micros(config.target_cac),
            "budget_micros": None if config.budget is None else to_micros(config.budget),
            "currency": config.currency,
            "sensitivity": config.sensitivity,
            "updated_at": config.updated_at.astimezone(UTC),
        }
        stmt: postgresql.Insert | sqlite.Insert
        if self._dialect == "postgresql":
            stmt = postgresql.insert(CampaignConfigRow)
        elif self._dialect == "sqlite":
            stmt = sqlite.insert(CampaignConfigRow)
        else:
            raise NotImplementedError(f"no upsert for the {self._dialect} dialect")
        upsert = stmt.values(row).on_conflict_do_update(
            index_elements=["campaign_id"],
            set_={key: stmt.excluded[key] for key in row if key != "campaign_id"},
        )
        with self._engine.begin() as connection:
            connection.execute(upsert)

    def get(self, campaign_id: str) -> CampaignConfig | None:
        table = CampaignConfigRow.__table__
        query = select(table).where(table.c.campaign_id == campaign_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        if row is None:
            return None
        return CampaignConfig(
            campaign_id=row["campaign_id"],
            target_cac=_decimal(row["target_cac_micros"]),
            budget=_decimal(row["budget_micros"]),
            currency=row["currency"],
            sensitivity=row["sensitivity"],
            updated_at=_aware(row["updated_at"]),
        )
