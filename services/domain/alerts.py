"""Alerts: one open alert per campaign and cause, updated while it lasts, resolved when it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.domain.views import Contributor, Reason, StatusName

AlertState = Literal["firing", "acknowledged", "resolved"]
Severity = Literal["warning", "critical"]
ResolvedBy = Literal["monitor", "user"]


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert_id: str
    campaign_id: str
    cause: str
    severity: Severity
    state: AlertState
    status: StatusName
    summary: str
    reasons: list[Reason]
    contributors: list[Contributor]
    revision: int
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    event_time: datetime
    resolved_by: ResolvedBy | None = None
    clear_since: datetime | None = None
    """Event time since which the cause has been absent; ``None`` while it is present."""
