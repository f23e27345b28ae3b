"""Creator-level alerts: a cause wide enough for ``creator:<creator_id>:<kind>``.

A creator id is up to 128 characters, so the cause (64 until now) is widened to 256. The alert's
``creator_id`` lives in its JSON body, and ``alert_creators`` already indexes the creators an alert
names, so nothing else changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as alerts:
        alerts.alter_column(
            "cause", existing_type=sa.String(64), type_=sa.String(256), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as alerts:
        alerts.alter_column(
            "cause", existing_type=sa.String(256), type_=sa.String(64), existing_nullable=False
        )
