"""A firing alert with no reasons or contributors, for tests of what carries alerts (the outbox,
the notifier, webhooks) rather than what opens them."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.domain.alerts import Alert


def firing_alert(campaign_id: str, summary: str, at: datetime) -> Alert:
    return Alert(
        alert_id=f"al_{uuid.uuid4().hex}",
        campaign_id=campaign_id,
        cause="engagement_drop",
        severity="warning",
        state="firing",
        status="decaying",
        summary=summary,
        reasons=[],
        contributors=[],
        revision=1,
        opened_at=at,
        updated_at=at,
        event_time=at,
    )
