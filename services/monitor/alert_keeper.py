"""Runs the alert policy over freshly built campaign and creator views and keeps the result in
the database.

Synchronous (SQLAlchemy): the monitor calls it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.domain import alerting
from services.domain.alerting import DEFAULT_POLICY, AlertPolicy
from services.domain.alerts import Alert
from services.domain.suspicion_alerts import evaluate_suspicion, suspicion_cause
from services.domain.views import CampaignView, CreatorView
from services.storage.alerts import AlertRepository

# A campaign's open alerts, keyed by the creator whose own they are (None: the campaign's), then
# by cause.
Tracked = dict[str | None, dict[str, Alert]]


class AlertKeeper:
    def __init__(self, repository: AlertRepository, policy: AlertPolicy = DEFAULT_POLICY) -> None:
        self._repository = repository
        self._policy = policy

    def evaluate(
        self,
        campaigns: Sequence[CampaignView],
        now: datetime,
        creators: Sequence[CreatorView] = (),
    ) -> list[Alert]:
        """Open, update and resolve the campaigns' alerts, and the creators' own; return the new
        revisions written, to be announced (quiet notes such as ``clear_since`` are kept but not
        returned). A creator's alerts are evaluated when its view was rebuilt, which a status
        round does whenever it changed or its campaign's event time moved to a new hour."""
        latest = {view.campaign_id: view for view in campaigns}
        members = {(view.campaign_id, view.creator_id): view for view in creators}
        if not latest and not members:
            return []
        tracked: dict[str, Tracked] = {}
        found = self._repository.open_alerts(sorted({*latest, *(c for c, _ in members)}))
        for (campaign_id, cause), alert in found.items():
            tracked.setdefault(campaign_id, {}).setdefault(alert.creator_id, {})[cause] = alert
        changes = [
            action.alert
            for view in latest.values()
            for action in alerting.evaluate(
                view, tracked.get(view.campaign_id, {}).get(None, {}), now, self._policy
            )
        ]
        changes += [
            action.alert
            for (campaign_id, creator_id), view in members.items()
            for action in alerting.evaluate(
                view,
                tracked.get(campaign_id, {}).get(creator_id, {}),
                now,
                self._policy,
                campaign=latest.get(campaign_id),
            )
        ]
        changes += [
            action.alert
            for (campaign_id, creator_id), view in members.items()
            for action in evaluate_suspicion(
                view,
                tracked.get(campaign_id, {}).get(creator_id, {}).get(suspicion_cause(creator_id)),
                now,
                self._policy,
            )
        ]
        return self._repository.apply(changes) if changes else []
