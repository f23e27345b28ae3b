"""Daily rollups per creator-in-campaign: the history weekly reviews are built from.

The monitor's state keeps seven days; a review compares weeks and may be asked for any past week,
also after a restart. Each row is one UTC day's full figure for one creator in one campaign.
A campaign's configuration may name the time zone its team reads reviews in.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
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
    with op.batch_alter_table("campaign_configs") as configs:
        configs.add_column(sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_configs") as configs:
        configs.drop_column("time_zone")
    op.drop_index("ix_daily_rollups_day", table_name="daily_rollups")
    op.drop_table("daily_rollups")
