"""Webhook subscriptions with their delivery cursors, and campaign configurations.

A webhook's cursor is the id of the last ``alert_events`` row (the alert outbox) delivered to it
with a 2xx answer; the notifier delivers the rows after it, in id order, and moves it only after a
receiver accepted one. A new webhook starts at the current end of the outbox: it is told about
state changes from its creation on, not about the whole history.

A webhook also keeps its delivery state, so that a restarted notifier goes on where the last one
stopped: since when it has been failing, how many attempts in a row failed, when to try next, the
last error, and why it was disabled. After a secret rotation the previous secret stays valid
(deliveries are signed with both) until ``previous_secret_expires_at``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    ForeignKey,
    RowMapping,
    String,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.config import CampaignConfig
from services.domain.money import MICROS_PER_UNIT, to_micros
from services.notifier.signing import new_secret
from services.storage.alerts import AlertEventRow
from services.storage.models import Base, optional_stored_time, stored_time
from services.storage.promo_codes import (
    PromoCodeTaken,
    promo_code_conflicts,
    promo_codes_of,
    replace_promo_codes,
)

WebhookFormat = Literal["generic", "slack"]
WebhookEvent = Literal["alerts", "report.weekly", "budget.moves"]
"""What a webhook subscribes to: every alert change, each campaign's weekly review, and each
campaign's budget moves when they change."""
ALERTS: WebhookEvent = "alerts"


class WebhookRow(Base):
    __tablename__ = "webhooks"

    webhook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    active: Mapped[bool]
    previous_secret: Mapped[str | None] = mapped_column(String(256))
    previous_secret_expires_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(512))
    failing_since: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(512))
    # The subscribed WebhookEvents, comma-separated (migration 0009; alerts only before).
    events: Mapped[str] = mapped_column(String(256), default=ALERTS)


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
    # IANA zone the team reads weekly reviews in (migration 0009).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    shop_domain: Mapped[str | None] = mapped_column(String(77))


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    url: str
    format: WebhookFormat
    secret: str = field(repr=False)
    created_at: datetime
    active: bool
    previous_secret: str | None = field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    failed_attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    events: tuple[WebhookEvent, ...] = (ALERTS,)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery at ``now`` is signed with: the current one, and the one it
        replaced while that is still valid."""
        expires = self.previous_secret_expires_at
        if self.previous_secret is None or expires is None or expires <= now:
            return [self.secret]
        return [self.secret, self.previous_secret]


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        webhook_id=row["webhook_id"],
        url=row["url"],
        format="slack" if row["format"] == "slack" else "generic",
        secret=row["secret"],
        created_at=stored_time(row["created_at"]),
        active=row["active"],
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=optional_stored_time(row["previous_secret_expires_at"]),
        disabled_reason=row["disabled_reason"],
        failing_since=optional_stored_time(row["failing_since"]),
        failed_attempts=row["failed_attempts"],
        next_attempt_at=optional_stored_time(row["next_attempt_at"]),
        last_error=row["last_error"],
        events=tuple(
            event for event in get_args(WebhookEvent) if event in row["events"].split(",")
        ),
    )


_HEALTHY = {
    "failing_since": None,
    "failed_attempts": 0,
    "next_attempt_at": None,
    "last_error": None,
}


class WebhookRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        url: str,
        format: WebhookFormat,
        secret: str | None = None,
        events: tuple[WebhookEvent, ...] = (ALERTS,),
    ) -> Webhook:
        """Register an active webhook whose cursor is the newest outbox event."""
        webhook = Webhook(
            webhook_id=f"wh_{uuid.uuid4().hex}",
            url=url,
            format=format,
            secret=secret if secret is not None else new_secret(),
            created_at=datetime.now(UTC),
            active=True,
            events=events,
        )
        row = {
            "webhook_id": webhook.webhook_id,
            "url": webhook.url,
            "format": webhook.format,
            "secret": webhook.secret,
            "created_at": webhook.created_at,
            "active": True,
            "events": ",".join(events),
        }
        with self._engine.begin() as connection:
            head = connection.scalar(select(func.max(AlertEventRow.id))) or 0
            connection.execute(insert(WebhookRow).values(row))
            connection.execute(
                insert(WebhookCursorRow).values(webhook_id=webhook.webhook_id, last_event_id=head)
            )
        return webhook

    def get(self, webhook_id: str) -> Webhook | None:
        table = WebhookRow.__table__
        query = select(table).where(table.c.webhook_id == webhook_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        return None if row is None else _webhook(row)

    def find(self, active: bool | None = None) -> list[Webhook]:
        """Webhooks oldest first: all of them, or only the active or the disabled ones."""
        table = WebhookRow.__table__
        query = select(table).order_by(table.c.created_at)
        if active is not None:
            query = query.where(table.c.active == active)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_webhook(row) for row in rows]

    def list_active(self) -> list[Webhook]:
        return self.find(active=True)

    def delete(self, webhook_id: str) -> bool:
        """Forget a webhook and its cursor; False when there is no webhook with that id."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(WebhookCursorRow).where(WebhookCursorRow.webhook_id == webhook_id)
            )
            return (
                connection.execute(
                    delete(WebhookRow).where(WebhookRow.webhook_id == webhook_id)
                ).rowcount
                == 1
            )

    def rotate_secret(
        self, webhook_id: str, overlap: timedelta, secret: str | None = None
    ) -> Webhook | None:
        """Give a webhook a new secret, the old one staying valid for ``overlap``; None when
        there is no webhook with that id."""
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            current = connection.scalar(
                select(WebhookRow.secret).where(WebhookRow.webhook_id == webhook_id)
            )
            if current is None:
                return None
            connection.execute(
                update(WebhookRow)
                .where(WebhookRow.webhook_id == webhook_id)
                .values(
                    secret=secret if secret is not None else new_secret(),
                    previous_secret=current,
                    previous_secret_expires_at=now + overlap,
                )
            )
        return self.get(webhook_id)

    def enable(self, webhook_id: str) -> Webhook | None:
        """Deliver to a disabled webhook again, from where its cursor stopped (so it gets what
        it missed, in order), with its record of failures cleared; None when there is no such
        webhook."""
        with self._engine.begin() as connection:
            connection.execute(
                update(WebhookRow)
                .where(WebhookRow.webhook_id == webhook_id)
                .values({**_HEALTHY, "active": True, "disabled_reason": None})
            )
        return self.get(webhook_id)

    def delivered(self, webhook_id: str, event_id: int) -> None:
        """A receiver accepted ``event_id``: move the cursor and clear any run of failures."""
        with self._engine.begin() as connection:
            self._advance(connection, webhook_id, event_id)
            self.clear_failures(connection, webhook_id)

    @staticmethod
    def clear_failures(connection: Connection, webhook_id: str) -> None:
        connection.execute(
            update(WebhookRow)
            .where(WebhookRow.webhook_id == webhook_id, WebhookRow.failed_attempts > 0)
            .values(_HEALTHY)
        )

    def failed(
        self,
        webhook_id: str,
        at: datetime,
        error: str,
        retry_at: datetime | None,
        disabled_reason: str | None = None,
    ) -> None:
        """Record a failed attempt at ``at``: try again at ``retry_at``, or disable the webhook
        for ``disabled_reason``."""
        query = (
            update(WebhookRow)
            .where(WebhookRow.webhook_id == webhook_id)
            .values(
                failing_since=func.coalesce(WebhookRow.failing_since, at),
                failed_attempts=WebhookRow.failed_attempts + 1,
                next_attempt_at=retry_at,
                last_error=error[:512],
            )
        )
        if disabled_reason is not None:
            query = query.values(active=False, disabled_reason=disabled_reason[:512])
        with self._engine.begin() as connection:
            connection.execute(query)

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
        with self._engine.begin() as connection:
            self._advance(connection, webhook_id, event_id)

    @staticmethod
    def _advance(connection: Connection, webhook_id: str, event_id: int) -> None:
        connection.execute(
            update(WebhookCursorRow)
            .where(
                WebhookCursorRow.webhook_id == webhook_id,
                WebhookCursorRow.last_event_id < event_id,
            )
            .values(last_event_id=event_id)
        )


def _decimal(micros: int | None) -> Decimal | None:
    return None if micros is None else Decimal(micros) / MICROS_PER_UNIT


class CampaignConfigRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def promo_code_conflicts(self, config: CampaignConfig) -> dict[str, str]:
        """The configuration's codes that another campaign of its shop holds."""
        if config.shop_domain is None:
            return {}
        with self._engine.connect() as connection:
            return promo_code_conflicts(
                connection, config.shop_domain, list(config.promo_codes), config.campaign_id
            )

    def save(self, config: CampaignConfig) -> None:
        """Insert or replace a campaign's configuration and its promo codes; ``PromoCodeTaken``
        when another campaign of the shop holds one of the codes (nothing is saved then)."""
        row = {
            "campaign_id": config.campaign_id,
            "target_cac_micros": None
            if config.target_cac is None
            else to_micros(config.target_cac),
            "budget_micros": None if config.budget is None else to_micros(config.budget),
            "currency": config.currency,
            "sensitivity": config.sensitivity,
            "time_zone": config.time_zone,
            "updated_at": config.updated_at.astimezone(UTC),
            "shop_domain": config.shop_domain,
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
        shop = config.shop_domain
        try:
            with self._engine.begin() as connection:
                if shop is not None:
                    taken = promo_code_conflicts(
                        connection, shop, list(config.promo_codes), config.campaign_id
                    )
                    if taken:
                        raise PromoCodeTaken(shop, taken)
                connection.execute(upsert)
                replace_promo_codes(connection, config.campaign_id, shop, config.promo_codes)
        except IntegrityError as exc:
            # Another campaign took one of the codes between the check and the insert.
            raise PromoCodeTaken(shop or "", self.promo_code_conflicts(config)) from exc

    def get(self, campaign_id: str) -> CampaignConfig | None:
        table = CampaignConfigRow.__table__
        query = select(table).where(table.c.campaign_id == campaign_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
            codes = promo_codes_of(connection, campaign_id)
        if row is None:
            return None
        return CampaignConfig(
            campaign_id=row["campaign_id"],
            target_cac=_decimal(row["target_cac_micros"]),
            budget=_decimal(row["budget_micros"]),
            currency=row["currency"],
            sensitivity=row["sensitivity"],
            time_zone=row["time_zone"],
            updated_at=stored_time(row["updated_at"]),
            shop_domain=row["shop_domain"],
            promo_codes=codes,
        )
