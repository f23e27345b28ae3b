"""The ``suspicious_engagement`` alert of a creator, separate from decay. Pure functions.

It opens (severity ``warning``: a flag asks for a look, not for the campaign to stop) when a
creator's view carries flags, naming the creator and carrying the flags with their evidence. It is
updated when a new flag appears (a kind or a post not flagged before), and resolves once the
creator has had no flag for the policy's ``resolve_after`` of event time (flags expire with the
monitor's retention). Acknowledging, resolving by hand and the hold of a cause resolved by hand
follow the decay alerts' rules (``services.domain.alerting``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.domain.alerting import (
    DEFAULT_POLICY,
    SUSPICIOUS_ENGAGEMENT,
    Action,
    AlertPolicy,
    blocks_cause,
    creator_cause,
    holds_cause,
    new_alert_id,
)
from services.domain.alerts import MONITOR, Alert
from services.domain.suspicion import CreatorFlag
from services.domain.views import CreatorView


def suspicion_cause(creator_id: str) -> str:
    return creator_cause(creator_id, SUSPICIOUS_ENGAGEMENT)


def _numbers(evidence: dict[str, float]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in evidence.items())


def suspicion_summary(creator_id: str, flags: list[CreatorFlag]) -> str:
    """E.g. "Creator ana: suspicious engagement: engagement_burst on ana-p003 (likes gained
    4200, views gained 900, ...)"; further flags are counted."""
    first = flags[0]
    where = f" on {first.post_id}" if first.post_id is not None else ""
    text = (
        f"Creator {creator_id}: suspicious engagement: {first.kind}{where}"
        f" ({_numbers(first.evidence)})"
    )
    if len(flags) > 1:
        text += f"; {len(flags) - 1} more flag{'s' if len(flags) > 2 else ''}"
    return text


def _keys(flags: list[CreatorFlag]) -> set[tuple[str, str | None]]:
    return {(f.kind, f.post_id) for f in flags}


def evaluate_suspicion(
    view: CreatorView,
    tracked: Alert | None,
    now: datetime,
    policy: AlertPolicy = DEFAULT_POLICY,
    new_id: Callable[[], str] = new_alert_id,
) -> list[Action]:
    """What to do with the creator's suspicious-engagement alert given its latest view;
    ``tracked`` is its open alert, or the resolved one holding the cause, or ``None``."""
    as_of = view.as_of
    if as_of is None:
        return []
    flags = view.flags
    if tracked is None or not blocks_cause(tracked):
        return [Action("open", _opened(view, now, as_of, new_id()))] if flags else []
    if tracked.state == "resolved":
        if not flags and holds_cause(tracked):
            return [Action("note", tracked.model_copy(update={"clear_since": as_of}))]
        return []
    if flags:
        if _keys(flags) - _keys(tracked.flags):
            update = {
                "summary": suspicion_summary(view.creator_id, flags),
                "flags": flags,
                "revision": tracked.revision + 1,
                "updated_at": now,
                "event_time": as_of,
                "clear_since": None,
            }
            return [Action("update", tracked.model_copy(update=update))]
        if tracked.clear_since is not None:
            return [Action("note", tracked.model_copy(update={"clear_since": None}))]
        return []
    clear_since = tracked.clear_since or as_of
    if as_of - clear_since < policy.resolve_after:
        if tracked.clear_since is None:
            return [Action("note", tracked.model_copy(update={"clear_since": as_of}))]
        return []
    resolved = tracked.model_copy(
        update={
            "state": "resolved",
            "summary": f"Creator {view.creator_id}: no suspicious engagement flagged any more",
            "revision": tracked.revision + 1,
            "updated_at": now,
            "resolved_at": now,
            "resolved_by": MONITOR,
            "event_time": as_of,
            "clear_since": clear_since,
        }
    )
    return [Action("resolve", resolved)]


def _opened(view: CreatorView, now: datetime, as_of: datetime, alert_id: str) -> Alert:
    return Alert(
        alert_id=alert_id,
        campaign_id=view.campaign_id,
        creator_id=view.creator_id,
        cause=suspicion_cause(view.creator_id),
        severity="warning",
        state="firing",
        status=view.status,
        summary=suspicion_summary(view.creator_id, view.flags),
        reasons=[],
        contributors=[],
        flags=view.flags,
        revision=1,
        opened_at=now,
        updated_at=now,
        event_time=as_of,
    )
