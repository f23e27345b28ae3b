"""Weekly reviews: daily rollups per creator-in-campaign, the history reviews are built from.

The monitor's state keeps seven days; a review compares weeks and may be asked for any past week,
also after a restart. Each row is one UTC day's full figure for one creator in one campaign;
``post_figures`` keeps each post's latest figures, for the review's best and worst posts.
A campaign's configuration may name the time zone its team reads reviews in. Webhooks subscribe
to event types (alert changes, as before, and ``report.weekly``), and ``report_events`` is the
outbox of weekly reviews, one per campaign and closed week, with each webhook's cursor over it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = (
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "spend_micros",
    "conversions",
    "new_customers",
    "revenue_micros",
)


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("creator_id", sa.String(128), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTERS),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_daily_rollups_day", "daily_rollups", ["day"])
    op.create_table(
        "post_figures",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("creator_id", sa.String(128), primary_key=True),
        sa.Column("post_id", sa.String(128), primary_key=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTERS[:6]),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_post_figures_posted_at", "post_figures", ["campaign_id", "posted_at"])
    with op.batch_alter_table("campaign_configs") as configs:
        configs.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    with op.batch_alter_table("webhooks") as webhooks:
        webhooks.add_column(
            sa.Column("events", sa.String(256), nullable=False, server_default="alerts")
        )
    op.create_table(
        "report_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "week", name="uq_report_events_campaign_week"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhook_report_cursors",
        sa.Column(
            "webhook_id",
            sa.String(64),
            sa.ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_report_cursors")
    op.drop_table("report_events")
    with op.batch_alter_table("webhooks") as webhooks:
        webhooks.drop_column("events")
    with op.batch_alter_table("campaign_configs") as configs:
        configs.drop_column("time_zone")
    op.drop_index("ix_post_figures_posted_at", table_name="post_figures")
    op.drop_table("post_figures")
    op.drop_index("ix_daily_rollups_day", table_name="daily_rollups")
    op.drop_table("daily_rollups")
