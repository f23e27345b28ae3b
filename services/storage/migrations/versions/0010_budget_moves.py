"""Budget moves in the outbox: ``alert_events.kind`` (``alert`` or ``budget.moves``) and
``budget_moves_sent``, the last moves emitted per campaign (to emit only when they change, at most
once a day).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_events") as events:
        events.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="alert"))
    op.create_table(
        "budget_moves_sent",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budget_moves_sent")
    with op.batch_alter_table("alert_events") as events:
        events.drop_column("kind")
