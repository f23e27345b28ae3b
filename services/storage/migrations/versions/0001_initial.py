"""Latest status per campaign and per creator.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_status",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    op.create_index("ix_campaign_status_status", "campaign_status", ["status"])
    op.create_table(
        "creator_status",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("creator_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    op.create_index("ix_creator_status_status", "creator_status", ["status"])


def downgrade() -> None:
    op.drop_index("ix_creator_status_status", table_name="creator_status")
    op.drop_table("creator_status")
    op.drop_index("ix_campaign_status_status", table_name="campaign_status")
    op.drop_table("campaign_status")
