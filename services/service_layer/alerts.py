"""A person acting on an alert: acknowledged or resolved under a key's name, and audited."""

from __future__ import annotations

from datetime import UTC, datetime

from services.domain.alerts import Alert
from services.domain.keys import Principal
from services.storage.alerts import AlertRepository
from services.storage.keys import AuditLog


def acknowledge(
    alerts: AlertRepository, audit: AuditLog, alert_id: str, by: Principal
) -> Alert | None:
    now = datetime.now(UTC)
    alert = alerts.acknowledge(alert_id, now, by.name)
    if alert is not None and alert.acknowledged_at == now:
        audit.record(by.name, by.key_id, "alert.acknowledge", alert_id, now)
    return alert


def resolve(alerts: AlertRepository, audit: AuditLog, alert_id: str, by: Principal) -> Alert | None:
    now = datetime.now(UTC)
    alert = alerts.resolve(alert_id, now, by.name)
    if alert is not None and alert.resolved_at == now:
        audit.record(by.name, by.key_id, "alert.resolve", alert_id, now)
    return alert
