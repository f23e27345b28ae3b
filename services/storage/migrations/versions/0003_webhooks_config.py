"""Webhook subscriptions, their delivery cursors into the alert outbox, campaign configurations.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("secret", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "webhook_cursors",
        sa.Column(
            "webhook_id",
            sa.String(64),
            sa.ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "campaign_configs",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("target_cac_micros", sa.BigInteger(), nullable=True),
        sa.Column("budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("sensitivity", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_configs")
    op.drop_table("webhook_cursors")
    op.drop_table("webhooks")
