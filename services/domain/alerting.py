"""The alert lifecycle: when an alert opens, when it is updated, when it resolves. Pure functions.

One alert per campaign and cause (a reason's ``kind``) is open at a time:

- It opens when the campaign is ``decaying`` and a reason of that cause is present (``watch``
  opens nothing), with severity ``critical``.
- While the cause persists the alert is updated (same ``alert_id``, ``revision`` + 1) only when
  something material changes: the relative change, rounded to whole percentage points, moves by
  at least ``material_points``; the campaign's status changes; or the top contributor changes.
  The monitor evaluates several times a second, so anything less is not worth a notification.
- When the cause disappears the alert notes the event time (``clear_since``); if the cause comes
  back the note is wiped. It resolves once the cause has been absent for ``resolve_after`` of
  event time, so a flicker does not resolve it and a backfill resolves it as live data would.
- Acknowledging keeps an alert ``acknowledged`` through later updates.
- An alert resolved by a user while its cause is present holds the cause: nothing reopens until
  the cause has cleared once (the hold is released by noting ``clear_since`` on it).

Alert ids are uuid4 strings. An id derived from the opening event time could collide: late data
can move a status without moving the watermark, so a cause can open, be resolved by hand, clear
and open again at one event time.

A creator's own status opens alerts of its own, by the same rules: their cause is
``creator:<creator_id>:<kind>`` and they carry ``creator_id``, so one creator collapsing in a large
campaign is named even while the campaign as a whole holds. While the campaign itself is
``decaying`` for a kind, no creator alert of that kind opens: the campaign's alert already names
the creators driving it, and twenty creators fatiguing together are one alert, not twenty-one.

Suspicious engagement (a creator view's ``flags``) has a cause of its own per creator,
``creator:<creator_id>:suspicious_engagement``, kept apart from decay by
``services.domain.suspicion_alerts``; the decay rules here leave that cause alone.

Besides opening, updating and resolving, an evaluation can *note* a change that is kept but not
announced (``clear_since`` set or wiped): those keep their revision and send no notification.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.domain.alerts import MONITOR, Alert, Severity
from services.domain.views import CampaignView, Contributor, CreatorView, Reason, StatusName

ActionKind = Literal["open", "update", "resolve", "note"]

_LABELS: Mapping[str, str] = {
    "engagement_rate_by_views": "Engagement rate by views",
    "cac": "CAC",
    "conversions_per_view": "Conversions per view",
    "clicks_per_view": "Clicks per view",
    "roas": "ROAS",
}


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    resolve_after: timedelta = timedelta(hours=6)
    """Event time a cause must stay absent before its alert resolves on its own."""
    material_points: int = 5
    """Percentage points the rounded relative change must move by to be worth an update."""


DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    """``note``: kept without a new revision or notification; anything else is a new revision."""
    alert: Alert


@dataclass(frozen=True, slots=True)
class _Subject:
    """What alerts are evaluated on: a campaign's view, or a creator's (``creator_id`` set)."""

    campaign_id: str
    creator_id: str | None
    status: StatusName
    as_of: datetime | None
    reasons: list[Reason]
    contributors: list[Contributor]
    # Kinds whose alerts do not open for this subject: those its campaign is decaying for.
    covered: frozenset[str] = frozenset()

    def cause(self, reason: Reason) -> str:
        if self.creator_id is None:
            return reason.kind
        return creator_cause(self.creator_id, reason.kind)


SUSPICIOUS_ENGAGEMENT = "suspicious_engagement"


def creator_cause(creator_id: str, kind: str) -> str:
    """The cause of a creator-level alert for a reason of ``kind``."""
    return f"creator:{creator_id}:{kind}"


def is_suspicion_cause(cause: str) -> bool:
    return cause.endswith(f":{SUSPICIOUS_ENGAGEMENT}")


def new_alert_id() -> str:
    return str(uuid.uuid4())


def change_of(alert: Alert) -> Literal["firing", "acknowledged", "resolved", "updated"]:
    """What this revision of the alert is: one of its state changes, or an update in between."""
    if alert.state == "resolved":
        return "resolved"
    if alert.state == "acknowledged":
        return "acknowledged" if alert.updated_at == alert.acknowledged_at else "updated"
    return "firing" if alert.revision == 1 else "updated"


def holds_cause(alert: Alert) -> bool:
    """A resolved alert that keeps its cause from reopening: resolved by hand, never cleared."""
    return alert.state == "resolved" and alert.resolved_by != MONITOR and alert.clear_since is None


def blocks_cause(alert: Alert) -> bool:
    """While this alert is tracked, no new alert opens for its cause."""
    return alert.state != "resolved" or holds_cause(alert)


def acknowledge(alert: Alert, now: datetime, by: str) -> Alert:
    """The alert acknowledged by ``by``; an acknowledged or resolved alert is returned as it is."""
    if alert.state != "firing":
        return alert
    return alert.model_copy(
        update={
            "state": "acknowledged",
            "acknowledged_at": now,
            "acknowledged_by": by,
            "updated_at": now,
            "revision": alert.revision + 1,
        }
    )


def resolve(alert: Alert, now: datetime, by: str) -> Alert:
    """The alert resolved by a user, ``by``; a resolved alert is returned as it is.

    When the cause is present at that moment (``clear_since`` is ``None``) the resolved alert
    holds the cause until it has cleared once, see :func:`holds_cause`.
    """
    if alert.state == "resolved":
        return alert
    return alert.model_copy(
        update={
            "state": "resolved",
            "resolved_at": now,
            "resolved_by": by,
            "updated_at": now,
            "revision": alert.revision + 1,
        }
    )


def evaluate(
    view: CampaignView | CreatorView,
    tracked: Mapping[str, Alert],
    now: datetime,
    policy: AlertPolicy = DEFAULT_POLICY,
    new_id: Callable[[], str] = new_alert_id,
    campaign: CampaignView | None = None,
) -> list[Action]:
    """What to do with a campaign's alerts given its latest view, or with one creator's own
    alerts given the creator's view (by the same rules, on the creator's own status; with its
    ``campaign``'s latest view, no kind the campaign is decaying for opens).

    ``tracked`` maps each of the view's causes (the campaign's own, or that creator's) to its
    open alert for it, or to the resolved alert holding it (see :func:`holds_cause`). ``now`` is
    the wall clock, stamped on what changes; every duration is measured in event time,
    ``view.as_of``.
    """
    if isinstance(view, CreatorView):
        covered: frozenset[str] = frozenset()
        if campaign is not None and campaign.status == "decaying":
            covered = frozenset(r.kind for r in campaign.reasons)
        subject = _Subject(
            view.campaign_id,
            view.creator_id,
            view.status,
            view.as_of,
            view.reasons,
            [],
            covered,
        )
    else:
        subject = _Subject(
            view.campaign_id, None, view.status, view.as_of, view.reasons, view.contributors
        )
    decay = {cause: alert for cause, alert in tracked.items() if not is_suspicion_cause(cause)}
    return _evaluate(subject, decay, now, policy, new_id)


def _evaluate(
    view: _Subject,
    tracked: Mapping[str, Alert],
    now: datetime,
    policy: AlertPolicy,
    new_id: Callable[[], str],
) -> list[Action]:
    as_of = view.as_of
    if as_of is None:
        return []
    present: dict[str, Reason] = {}
    for reason in view.reasons:
        present.setdefault(view.cause(reason), reason)

    actions: list[Action] = []
    for cause, alert in tracked.items():
        persisting = present.get(cause)
        if alert.state == "resolved":
            if persisting is None and holds_cause(alert):
                actions.append(Action("note", alert.model_copy(update={"clear_since": as_of})))
        elif persisting is not None:
            actions.extend(_persisting(alert, view, persisting, now, as_of, policy))
        else:
            actions.extend(_absent(alert, view.status, now, as_of, policy))

    if view.status == "decaying":
        for cause, reason in present.items():
            held = tracked.get(cause)
            if reason.kind not in view.covered and (held is None or not blocks_cause(held)):
                actions.append(Action("open", _opened(view, reason, now, as_of, new_id())))
    return actions


def _opened(view: _Subject, reason: Reason, now: datetime, as_of: datetime, alert_id: str) -> Alert:
    contributors = contributors_for(view, reason)
    return Alert(
        alert_id=alert_id,
        campaign_id=view.campaign_id,
        creator_id=view.creator_id,
        cause=view.cause(reason),
        severity="critical",
        state="firing",
        status=view.status,
        summary=summary(reason, contributors, view.creator_id),
        reasons=[reason],
        contributors=contributors,
        revision=1,
        opened_at=now,
        updated_at=now,
        event_time=as_of,
    )


def _persisting(
    alert: Alert,
    view: _Subject,
    reason: Reason,
    now: datetime,
    as_of: datetime,
    policy: AlertPolicy,
) -> list[Action]:
    contributors = contributors_for(view, reason)
    if _material(alert, view.status, reason, contributors, policy):
        updated = alert.model_copy(
            update={
                "severity": _severity(view.status),
                "status": view.status,
                "summary": summary(reason, contributors, view.creator_id),
                "reasons": [reason],
                "contributors": contributors,
                "revision": alert.revision + 1,
                "updated_at": now,
                "event_time": as_of,
                "clear_since": None,
            }
        )
        return [Action("update", updated)]
    if alert.clear_since is not None:
        return [Action("note", alert.model_copy(update={"clear_since": None}))]
    return []


def _absent(
    alert: Alert, status: StatusName, now: datetime, as_of: datetime, policy: AlertPolicy
) -> list[Action]:
    clear_since = alert.clear_since if alert.clear_since is not None else as_of
    if as_of - clear_since < policy.resolve_after:
        if alert.clear_since is None:
            return [Action("note", alert.model_copy(update={"clear_since": as_of}))]
        return []
    resolved = alert.model_copy(
        update={
            "state": "resolved",
            "status": status,
            "summary": _recovered(alert, policy.resolve_after),
            "revision": alert.revision + 1,
            "updated_at": now,
            "resolved_at": now,
            "resolved_by": MONITOR,
            "event_time": as_of,
            "clear_since": clear_since,
        }
    )
    return [Action("resolve", resolved)]


def _severity(status: StatusName) -> Severity:
    return "critical" if status == "decaying" else "warning"


def _points(reason: Reason) -> int | None:
    change = reason.relative_change
    return round(change * 100) if change is not None else None


def _material(
    alert: Alert,
    status: StatusName,
    reason: Reason,
    contributors: list[Contributor],
    policy: AlertPolicy,
) -> bool:
    if status != alert.status or _top(contributors) != _top(alert.contributors):
        return True
    before = _points(alert.reasons[0]) if alert.reasons else None
    after = _points(reason)
    if before is None or after is None:
        return before != after
    return abs(after - before) >= policy.material_points


def _top(contributors: list[Contributor]) -> str | None:
    return contributors[0].creator_id if contributors else None


def contributors_for(view: CampaignView | _Subject, reason: Reason) -> list[Contributor]:
    """The campaign's contributors to this reason's metric (all of them when none name it),
    largest share first."""
    matching = [c for c in view.contributors if c.metric == reason.metric]
    return sorted(matching or view.contributors, key=lambda c: c.share, reverse=True)


def _label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " ").capitalize())


def _reference(reason: Reason) -> str:
    return "target" if reason.kind.endswith("_target") else "baseline"


def _number(value: float | None) -> str:
    return f"{value:.4g}" if value is not None else "n/a"


def summary(reason: Reason, contributors: list[Contributor], creator_id: str | None = None) -> str:
    """One line in plain words, e.g. "Engagement rate by views down 42% vs baseline over 24h;
    top contributor creator-3 (61%)", or for a creator's own alert "Creator ana: Engagement
    rate by views down 48% vs baseline over 48h"."""
    label, reference = _label(reason.metric), _reference(reason)
    points = _points(reason)
    if points is None:
        text = (
            f"{label} {_number(reason.current)} vs {reference} {_number(reason.baseline)}"
            f" over {reason.window}"
        )
    else:
        direction = "down" if points < 0 else "up"
        text = f"{label} {direction} {abs(points)}% vs {reference} over {reason.window}"
    if contributors:
        top = contributors[0]
        text += f"; top contributor {top.creator_id} ({round(top.share * 100)}%)"
    return text if creator_id is None else f"Creator {creator_id}: {text}"


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes} min"


def _recovered(alert: Alert, resolve_after: timedelta) -> str:
    reason = alert.reasons[0] if alert.reasons else None
    what = _label(reason.metric) if reason is not None else alert.cause.replace("_", " ")
    reference = _reference(reason) if reason is not None else "baseline"
    return (
        f"Recovered: {what} back in line with its {reference} for {_duration(resolve_after)}"
        " of event time"
    )
