"""Webhook delivery state (failures, next attempt, why disabled) and secret rotation; secrets in
the Standard Webhooks form.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREFIX = "whsec_"
_webhooks = sa.table("webhooks", sa.column("webhook_id", sa.String), sa.column("secret", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as webhooks:
        webhooks.add_column(sa.Column("previous_secret", sa.String(256), nullable=True))
        webhooks.add_column(
            sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        webhooks.add_column(sa.Column("disabled_reason", sa.String(512), nullable=True))
        webhooks.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        webhooks.add_column(
            sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0")
        )
        webhooks.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        webhooks.add_column(sa.Column("last_error", sa.String(512), nullable=True))
    # A secret from before is kept as the same HMAC key: its bytes, base64-encoded after whsec_,
    # so its receiver can derive its new form from the secret it already holds.
    connection = op.get_bind()
    for webhook_id, secret in connection.execute(sa.select(_webhooks)).all():
        if not secret.startswith(_PREFIX):
            converted = _PREFIX + base64.b64encode(secret.encode()).decode()
            connection.execute(
                sa.update(_webhooks)
                .where(_webhooks.c.webhook_id == webhook_id)
                .values(secret=converted)
            )


def downgrade() -> None:
    # Secrets keep their whsec_ text: the old notifier signs with its bytes, as it did any secret.
    with op.batch_alter_table("webhooks") as webhooks:
        for column in (
            "last_error",
            "next_attempt_at",
            "failed_attempts",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "previous_secret",
        ):
            webhooks.drop_column(column)
