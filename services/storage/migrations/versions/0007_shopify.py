"""Shopify orders → conversions: shops and their webhook secrets, promo codes, the orders and
customers seen, reversals taken, webhook ids received; campaign configurations name their shop.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHOP = 77


def _time(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("campaign_configs") as configs:
        configs.add_column(sa.Column("shop_domain", sa.String(_SHOP), nullable=True))
    op.create_table(
        "shopify_shops",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("secret", sa.String(256), nullable=False),
        _time("secret_updated_at"),
    )
    op.create_table(
        "shopify_promo_codes",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("code", sa.String(255), primary_key=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("creator_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_shopify_promo_codes_campaign_id", "shopify_promo_codes", ["campaign_id"])
    op.create_table(
        "shopify_customers",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_order_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "shopify_orders",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("campaign_id", sa.String(128), nullable=True),
        sa.Column("creator_id", sa.String(128), nullable=True),
        sa.Column("revenue_micros", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("new_customer", sa.Boolean, nullable=False),
        _time("occurred_at"),
        sa.Column("reversed_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("customer_reversed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "shopify_reversals",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("reversal_key", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("revenue_micros", sa.BigInteger, nullable=False),
        sa.Column("new_customer", sa.Boolean, nullable=False),
        _time("occurred_at"),
    )
    op.create_table(
        "shopify_webhooks",
        sa.Column("shop_domain", sa.String(_SHOP), primary_key=True),
        sa.Column("webhook_id", sa.String(128), primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _time("received_at"),
    )


def downgrade() -> None:
    for table in (
        "shopify_webhooks",
        "shopify_reversals",
        "shopify_orders",
        "shopify_customers",
        "shopify_promo_codes",
        "shopify_shops",
    ):
        op.drop_table(table)
    with op.batch_alter_table("campaign_configs") as configs:
        configs.drop_column("shop_domain")
