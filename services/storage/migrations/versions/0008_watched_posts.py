"""Posts watched by the platform poller (`pulse poll`), with their polling state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watched_posts",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("post_id", sa.String(128), primary_key=True),
        sa.Column("creator_id", sa.String(128), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_watched_posts_next_poll_at", "watched_posts", ["next_poll_at"])


def downgrade() -> None:
    op.drop_index("ix_watched_posts_next_poll_at", table_name="watched_posts")
    op.drop_table("watched_posts")
