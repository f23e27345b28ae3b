"""The ``suspicious_engagement`` alert: a creator's own, separate from decay, with the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from services.domain import alerting
from services.domain.alerting import Action
from services.domain.suspicion import CreatorFlag
from services.domain.suspicion_alerts import evaluate_suspicion
from services.domain.views import CreatorView, StatusName
from tests.unit.test_alerting import NOW, T0, creator, reason

HOUR = timedelta(hours=1)
CAUSE = "creator:ana:suspicious_engagement"


def flag(kind: str = "likes_exceed_views", post_id: str | None = "ana-p1") -> CreatorFlag:
    return CreatorFlag.model_validate(
        {
            "kind": kind,
            "post_id": post_id,
            "since": T0,
            "evidence": {"likes": 5_400, "views": 4_800, "threshold_ratio": 1.0},
        }
    )


def flagged(
    flags: Sequence[CreatorFlag], as_of: datetime = T0, status: StatusName = "healthy"
) -> CreatorView:
    return creator(status=status, reasons=(), as_of=as_of).model_copy(update={"flags": list(flags)})


def only(actions: list[Action]) -> Action:
    assert len(actions) == 1, actions
    return actions[0]


def test_a_flagged_creator_opens_a_warning_naming_it_with_the_evidence() -> None:
    action = only(evaluate_suspicion(flagged([flag()]), None, NOW, new_id=lambda: "s1"))

    alert = action.alert
    assert action.kind == "open"
    assert (alert.alert_id, alert.cause, alert.creator_id) == ("s1", CAUSE, "ana")
    assert (alert.severity, alert.state, alert.status) == ("warning", "firing", "healthy")
    assert alert.flags == [flag()]
    assert alert.summary == (
        "Creator ana: suspicious engagement: likes_exceed_views on ana-p1"
        " (likes 5400, views 4800, threshold ratio 1)"
    )


def test_a_creator_without_flags_opens_nothing() -> None:
    assert evaluate_suspicion(flagged([]), None, NOW) == []


def test_a_new_flag_updates_the_alert_and_the_same_flags_do_not() -> None:
    alert = only(evaluate_suspicion(flagged([flag()]), None, NOW)).alert

    assert evaluate_suspicion(flagged([flag()], T0 + HOUR), alert, NOW) == []
    update = only(
        evaluate_suspicion(flagged([flag(), flag("follower_spike", None)], T0 + HOUR), alert, NOW)
    )
    assert (update.kind, update.alert.revision) == ("update", 2)
    assert update.alert.summary.endswith("; 1 more flag")


def test_the_alert_resolves_once_the_flags_have_been_gone_for_the_resolve_time() -> None:
    alert = only(evaluate_suspicion(flagged([flag()]), None, NOW)).alert

    noted = only(evaluate_suspicion(flagged([], T0 + HOUR), alert, NOW))
    assert (noted.kind, noted.alert.clear_since) == ("note", T0 + HOUR)
    assert evaluate_suspicion(flagged([], T0 + 4 * HOUR), noted.alert, NOW) == []
    resolved = only(evaluate_suspicion(flagged([], T0 + 7 * HOUR), noted.alert, NOW))
    assert (resolved.kind, resolved.alert.state, resolved.alert.resolved_by) == (
        "resolve",
        "resolved",
        "monitor",
    )


def test_the_decay_rules_leave_the_suspicion_alert_alone_and_it_does_not_stop_decay() -> None:
    suspicious = only(evaluate_suspicion(flagged([flag()]), None, NOW)).alert
    decaying = flagged([flag()], T0 + 12 * HOUR, status="decaying").model_copy(
        update={"reasons": [reason(change=-0.48)]}
    )

    actions = alerting.evaluate(decaying, {CAUSE: suspicious}, NOW)

    assert [(a.kind, a.alert.cause) for a in actions] == [
        ("open", "creator:ana:engagement_rate_drop")
    ]
