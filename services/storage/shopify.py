"""Shopify shops, promo codes, the orders seen and what was reversed of them.

The rules these rows serve (first order seen = new customer, reversals capped per order, webhook
ids remembered across restarts) are in docs/shopify.md; the decisions themselves are the pure
functions of ``services.domain.shopify``. Every insert-if-absent is an ``ON CONFLICT DO NOTHING``
followed by a read, so concurrent requests for the same order agree on one stored row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    RowMapping,
    String,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.shopify import OrderLedger, is_new_customer, reversal_share
from services.storage.db import begin_write, insert_statement
from services.storage.models import Base, stored_time
from services.storage.promo_codes import PromoCodeRow


class ShopifyShopRow(Base):
    __tablename__ = "shopify_shops"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    # Kept as is: verifying a signature needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(256))
    secret_updated_at: Mapped[datetime]


class ShopifyCustomerRow(Base):
    __tablename__ = "shopify_customers"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_order_id: Mapped[int] = mapped_column(BigInteger)


class ShopifyOrderRow(Base):
    """Every order seen; ``campaign_id`` is None for an order no mapped code attributes."""

    __tablename__ = "shopify_orders"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    campaign_id: Mapped[str | None] = mapped_column(String(128))
    creator_id: Mapped[str | None] = mapped_column(String(128))
    revenue_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    new_customer: Mapped[bool]
    occurred_at: Mapped[datetime]
    reversed_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_reversed: Mapped[bool] = mapped_column(default=False)


class ShopifyReversalRow(Base):
    __tablename__ = "shopify_reversals"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    reversal_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger)
    revenue_micros: Mapped[int] = mapped_column(BigInteger)
    new_customer: Mapped[bool]
    occurred_at: Mapped[datetime]


class ShopifyWebhookRow(Base):
    __tablename__ = "shopify_webhooks"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class ShopSource:
    shop_domain: str
    secret_updated_at: datetime
    orders_seen: int
    unattributed_orders: int


@dataclass(frozen=True, slots=True)
class OrderSeen:
    shop_domain: str
    order_id: int
    customer_id: int | None
    customer_order_index: int | None
    revenue_micros: int
    currency: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class StoredOrder:
    order_id: int
    campaign_id: str | None
    creator_id: str | None
    revenue_micros: int
    currency: str
    new_customer: bool
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class StoredReversal:
    order: StoredOrder
    reversal_key: str
    revenue_micros: int
    new_customer: bool
    occurred_at: datetime


NoReversal = Literal["unknown_order", "unattributed", "nothing_left"]


def _order(row: RowMapping) -> StoredOrder:
    return StoredOrder(
        order_id=row["order_id"],
        campaign_id=row["campaign_id"],
        creator_id=row["creator_id"],
        revenue_micros=row["revenue_micros"],
        currency=row["currency"],
        new_customer=row["new_customer"],
        occurred_at=stored_time(row["occurred_at"]),
    )


_ORDERS = ShopifyOrderRow.__table__
_REVERSALS = ShopifyReversalRow.__table__


def _order_row(connection: Connection, shop: str, order_id: int) -> RowMapping | None:
    """The order's row, locked until the transaction ends (on PostgreSQL; SQLite's write
    transaction already excludes every other writer)."""
    query = (
        select(_ORDERS)
        .where(_ORDERS.c.shop_domain == shop, _ORDERS.c.order_id == order_id)
        .with_for_update()
    )
    return connection.execute(query).mappings().first()


class ShopifyRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def set_secret(self, shop: str, secret: str, at: datetime) -> None:
        stmt = insert_statement(self._engine, ShopifyShopRow)
        upsert = stmt.values(
            shop_domain=shop, secret=secret, secret_updated_at=at.astimezone(UTC)
        ).on_conflict_do_update(
            index_elements=["shop_domain"],
            set_={
                "secret": stmt.excluded.secret,
                "secret_updated_at": stmt.excluded.secret_updated_at,
            },
        )
        with self._engine.begin() as connection:
            connection.execute(upsert)

    def secret(self, shop: str) -> str | None:
        query = select(ShopifyShopRow.secret).where(ShopifyShopRow.shop_domain == shop)
        with self._engine.connect() as connection:
            found: str | None = connection.scalar(query)
        return found

    def source(self, shop: str) -> ShopSource | None:
        """The shop as the API shows it: when its secret was set and the orders seen."""
        orders = select(
            func.count(),
            func.count().filter(ShopifyOrderRow.campaign_id.is_(None)),
        ).where(ShopifyOrderRow.shop_domain == shop)
        updated = select(ShopifyShopRow.secret_updated_at).where(ShopifyShopRow.shop_domain == shop)
        with self._engine.connect() as connection:
            secret_updated_at = connection.scalar(updated)
            if secret_updated_at is None:
                return None
            seen, unattributed = connection.execute(orders).one()
        return ShopSource(shop, stored_time(secret_updated_at), seen, unattributed)

    def code_owners(self, shop: str, codes: list[str]) -> dict[str, tuple[str, str]]:
        """(campaign id, creator id) of each given (normalised) code the shop has mapped."""
        if not codes:
            return {}
        query = select(PromoCodeRow.code, PromoCodeRow.campaign_id, PromoCodeRow.creator_id).where(
            PromoCodeRow.shop_domain == shop, PromoCodeRow.code.in_(codes)
        )
        with self._engine.connect() as connection:
            return {
                code: (campaign, creator) for code, campaign, creator in connection.execute(query)
            }

    def order(self, shop: str, order_id: int) -> StoredOrder | None:
        with self._engine.connect() as connection:
            query = select(_ORDERS).where(
                _ORDERS.c.shop_domain == shop, _ORDERS.c.order_id == order_id
            )
            row = connection.execute(query).mappings().first()
        return None if row is None else _order(row)

    def record_order(
        self, order: OrderSeen, owner: tuple[str, str] | None
    ) -> tuple[StoredOrder, bool]:
        """The order as first recorded, and whether this call recorded it. A re-sent order gets
        back what was stored the first time, new-customer verdict included."""
        shop = order.shop_domain
        with begin_write(self._engine) as connection:
            existing = _order_row(connection, shop, order.order_id)
            if existing is not None:
                return _order(existing), False
            first_seen = None
            if order.customer_id is not None:
                first_seen = self._first_order(connection, shop, order.customer_id, order.order_id)
            new_customer = is_new_customer(
                order.customer_order_index, order.customer_id, first_seen, order.order_id
            )
            insert = insert_statement(self._engine, ShopifyOrderRow).values(
                shop_domain=shop,
                order_id=order.order_id,
                campaign_id=owner[0] if owner else None,
                creator_id=owner[1] if owner else None,
                revenue_micros=order.revenue_micros,
                currency=order.currency,
                new_customer=new_customer,
                occurred_at=order.occurred_at.astimezone(UTC),
                reversed_micros=0,
                customer_reversed=False,
            )
            inserted = insert.on_conflict_do_nothing().returning(_ORDERS.c.order_id)
            created = connection.execute(inserted).first() is not None
            stored = _order_row(connection, shop, order.order_id)
            assert stored is not None
            return _order(stored), created

    def _first_order(
        self, connection: Connection, shop: str, customer_id: int, order_id: int
    ) -> int | None:
        insert = insert_statement(self._engine, ShopifyCustomerRow).values(
            shop_domain=shop, customer_id=customer_id, first_order_id=order_id
        )
        connection.execute(insert.on_conflict_do_nothing())
        query = select(ShopifyCustomerRow.first_order_id).where(
            ShopifyCustomerRow.shop_domain == shop, ShopifyCustomerRow.customer_id == customer_id
        )
        first: int | None = connection.scalar(query)
        return first

    def reverse(
        self,
        shop: str,
        order_id: int,
        reversal_key: str,
        requested_micros: int | None,
        occurred_at: datetime,
    ) -> StoredReversal | NoReversal:
        """Take back a share of an attributed order, once per ``reversal_key``: a retried refund
        gets back the reversal recorded the first time. ``requested_micros`` None is the rest."""
        with begin_write(self._engine) as connection:
            row = _order_row(connection, shop, order_id)
            if row is None:
                return "unknown_order"
            order = _order(row)
            if order.campaign_id is None:
                return "unattributed"
            done = (
                connection.execute(
                    select(_REVERSALS).where(
                        _REVERSALS.c.shop_domain == shop, _REVERSALS.c.reversal_key == reversal_key
                    )
                )
                .mappings()
                .first()
            )
            if done is not None:
                return StoredReversal(
                    order,
                    reversal_key,
                    done["revenue_micros"],
                    done["new_customer"],
                    stored_time(done["occurred_at"]),
                )
            ledger = OrderLedger(
                row["revenue_micros"],
                row["reversed_micros"],
                row["new_customer"],
                row["customer_reversed"],
            )
            share = reversal_share(ledger, requested_micros)
            if not share.takes_anything:
                return "nothing_left"
            connection.execute(
                insert_statement(self._engine, ShopifyReversalRow).values(
                    shop_domain=shop,
                    reversal_key=reversal_key,
                    order_id=order_id,
                    revenue_micros=share.revenue_micros,
                    new_customer=share.new_customer,
                    occurred_at=occurred_at.astimezone(UTC),
                )
            )
            connection.execute(
                update(ShopifyOrderRow)
                .where(ShopifyOrderRow.shop_domain == shop, ShopifyOrderRow.order_id == order_id)
                .values(
                    reversed_micros=row["reversed_micros"] + share.revenue_micros,
                    customer_reversed=row["customer_reversed"] or share.new_customer,
                )
            )
        return StoredReversal(
            order, reversal_key, share.revenue_micros, share.new_customer, occurred_at
        )

    def seen_webhook(self, shop: str, webhook_id: str) -> bool:
        query = select(func.count()).where(
            ShopifyWebhookRow.shop_domain == shop, ShopifyWebhookRow.webhook_id == webhook_id
        )
        with self._engine.connect() as connection:
            return bool(connection.scalar(query))

    def remember_webhook(
        self, shop: str, webhook_id: str, topic: str, outcome: str, at: datetime
    ) -> None:
        insert = insert_statement(self._engine, ShopifyWebhookRow).values(
            shop_domain=shop,
            webhook_id=webhook_id,
            topic=topic,
            outcome=outcome,
            received_at=at.astimezone(UTC),
        )
        with self._engine.begin() as connection:
            connection.execute(insert.on_conflict_do_nothing())
