"""Alerts: one open alert per campaign and cause, updated while it lasts, resolved when it ends.

A cause is the campaign's (a reason's kind) or one creator's (``creator:<id>:<kind>``); a
creator's suspicious engagement is ``creator:<id>:suspicious_engagement``, with its flags."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.domain.suspicion import CreatorFlag
from services.domain.views import Contributor, Reason, StatusName

AlertState = Literal["firing", "acknowledged", "resolved"]
Severity = Literal["warning", "critical"]
MONITOR = "monitor"
"""Who resolves an alert whose cause cleared; no key may take this name."""


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
    acknowledged_by: str | None = None
    """The name of the API key that acknowledged the alert."""
    resolved_at: datetime | None = None
    event_time: datetime
    resolved_by: str | None = None
    """``monitor`` when the cause cleared, else the name of the API key that resolved it."""
    clear_since: datetime | None = None
    """Event time since which the cause has been absent; ``None`` while it is present."""
    creator_id: str | None = None
    """The creator whose own status is the cause (a creator-level alert); ``None`` for the
    campaign's."""
    flags: list[CreatorFlag] = []
    """For a ``suspicious_engagement`` alert, the creator's flags and their evidence."""
