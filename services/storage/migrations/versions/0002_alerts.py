"""Alerts, the creators they name, and the outbox of their changes.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("state != 'resolved'")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(16), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clear_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    op.create_index(
        "uq_alerts_open_cause",
        "alerts",
        ["campaign_id", "cause"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index("ix_alerts_campaign_id", "alerts", ["campaign_id", "cause"])
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_table(
        "alert_creators",
        sa.Column(
            "alert_id",
            sa.String(64),
            sa.ForeignKey("alerts.alert_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("creator_id", sa.String(128), primary_key=True),
    )
    op.create_index("ix_alert_creators_creator_id", "alert_creators", ["creator_id"])
    op.create_table(
        "alert_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alert_creators_creator_id", table_name="alert_creators")
    op.drop_table("alert_creators")
    op.drop_index("ix_alerts_opened_at", table_name="alerts")
    op.drop_index("ix_alerts_campaign_id", table_name="alerts")
    op.drop_index("uq_alerts_open_cause", table_name="alerts")
    op.drop_table("alerts")
