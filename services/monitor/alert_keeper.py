"""Runs the alert policy over freshly built campaign views and keeps the result in the database.

Synchronous (SQLAlchemy): the monitor calls it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.domain import alerting
from services.domain.alerting import DEFAULT_POLICY, AlertPolicy
from services.domain.alerts import Alert
from services.domain.views import CampaignView
from services.storage.alerts import AlertRepository


class AlertKeeper:
    def __init__(self, repository: AlertRepository, policy: AlertPolicy = DEFAULT_POLICY) -> None:
        self._repository = repository
        self._policy = policy

    def evaluate(self, campaigns: Sequence[CampaignView], now: datetime) -> list[Alert]:
        """Open, update and resolve the campaigns' alerts; return the new revisions written, to
        be announced (quiet notes such as ``clear_since`` are kept but not returned)."""
        latest = {view.campaign_id: view for view in campaigns}
        if not latest:
            return []
        tracked: dict[str, dict[str, Alert]] = {}
        for (campaign_id, cause), alert in self._repository.open_alerts(list(latest)).items():
            tracked.setdefault(campaign_id, {})[cause] = alert
        changes = [
            action.alert
            for view in latest.values()
            for action in alerting.evaluate(
                view, tracked.get(view.campaign_id, {}), now, self._policy
            )
        ]
        return self._repository.apply(changes) if changes else []
