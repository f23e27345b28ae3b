from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain import alerting
from services.domain.alerting import Action, AlertPolicy
from services.domain.alerts import Alert
from services.domain.views import CampaignView, Contributor, CreatorView, Reason, StatusName
from tests.views import campaign_view

T0 = datetime(2025, 3, 3, tzinfo=UTC)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
ENGAGEMENT = "engagement_rate_drop"
CAC = "cac_rise"
CAUSES = (ENGAGEMENT, CAC, "conversion_rate_drop")
METRICS = {
    ENGAGEMENT: "engagement_rate_by_views",
    CAC: "cac",
    "conversion_rate_drop": "conversions_per_view",
}
HOUR = timedelta(hours=1)


def reason(kind: str = ENGAGEMENT, change: float | None = -0.42) -> Reason:
    return Reason(
        kind=kind,
        metric=METRICS.get(kind, "cac"),
        baseline=0.1,
        current=None if change is None else 0.1 * (1 + change),
        relative_change=change,
        window="24h",
    )


def contributor(creator_id: str, share: float, metric: str = METRICS[ENGAGEMENT]) -> Contributor:
    return Contributor(creator_id=creator_id, metric=metric, share=share, baseline=1.0, current=0.5)


def view(
    status: StatusName = "decaying",
    reasons: Sequence[Reason] = (),
    contributors: Sequence[Contributor] = (),
    as_of: datetime | None = T0,
    campaign_id: str = "c1",
) -> CampaignView:
    return campaign_view(
        campaign_id,
        status,
        as_of=as_of,
        updated_at=NOW,
        reasons=reasons,
        contributors=contributors,
    )


DECAYING = view(
    reasons=[reason(change=-0.42)],
    contributors=[contributor("creator-1", 0.39), contributor("creator-3", 0.61)],
)


def only(actions: list[Action]) -> Action:
    assert len(actions) == 1, actions
    return actions[0]


def opened(source: CampaignView = DECAYING) -> Alert:
    return only(alerting.evaluate(source, {}, NOW)).alert


def test_a_decaying_campaign_opens_a_critical_alert_per_cause() -> None:
    action = only(alerting.evaluate(DECAYING, {}, NOW, new_id=lambda: "a1"))

    assert action.kind == "open"
    assert action.alert.revision == 1
    alert = action.alert
    assert (alert.alert_id, alert.campaign_id, alert.cause) == ("a1", "c1", ENGAGEMENT)
    assert (alert.state, alert.severity, alert.status, alert.revision) == (
        "firing",
        "critical",
        "decaying",
        1,
    )
    assert (alert.opened_at, alert.updated_at, alert.event_time) == (NOW, NOW, T0)
    assert alert.summary == (
        "Engagement rate by views down 42% vs baseline over 24h; top contributor creator-3 (61%)"
    )
    assert [c.creator_id for c in alert.contributors] == ["creator-3", "creator-1"]
    assert alert.reasons == [reason(change=-0.42)]
    assert alert.clear_since is None


def test_alert_ids_are_uuid4_strings() -> None:
    first, second = opened(), opened()

    assert first.alert_id != second.alert_id
    assert len(first.alert_id) == 36


def test_every_cause_present_gets_its_own_alert() -> None:
    both = view(reasons=[reason(ENGAGEMENT), reason(CAC, 0.8)])

    actions = alerting.evaluate(both, {}, NOW)

    assert sorted(a.alert.cause for a in actions) == [CAC, ENGAGEMENT]
    assert len({a.alert.alert_id for a in actions}) == 2


def test_watch_and_healthy_open_nothing() -> None:
    assert alerting.evaluate(view("watch", [reason(change=-0.25)]), {}, NOW) == []
    assert alerting.evaluate(view("healthy"), {}, NOW) == []


def test_no_watermark_no_action() -> None:
    assert alerting.evaluate(view(reasons=[reason()], as_of=None), {}, NOW) == []


def test_the_same_view_again_changes_nothing() -> None:
    alert = opened()

    assert alerting.evaluate(DECAYING, {ENGAGEMENT: alert}, NOW + HOUR) == []


def test_a_small_move_is_not_an_update_but_five_points_is() -> None:
    alert = opened()
    small = DECAYING.model_copy(update={"reasons": [reason(change=-0.458)], "as_of": T0 + HOUR})
    large = DECAYING.model_copy(update={"reasons": [reason(change=-0.47)], "as_of": T0 + HOUR})

    assert alerting.evaluate(small, {ENGAGEMENT: alert}, NOW) == []
    action = only(alerting.evaluate(large, {ENGAGEMENT: alert}, NOW + HOUR))

    assert action.kind == "update"
    updated = action.alert
    assert (updated.alert_id, updated.revision) == (alert.alert_id, 2)
    assert (updated.opened_at, updated.updated_at, updated.event_time) == (
        NOW,
        NOW + HOUR,
        T0 + HOUR,
    )
    assert updated.summary.startswith("Engagement rate by views down 47% vs baseline")


def test_a_status_change_or_a_new_top_contributor_is_an_update() -> None:
    alert = opened()
    watch = DECAYING.model_copy(update={"status": "watch"})
    new_top = DECAYING.model_copy(
        update={"contributors": [contributor("creator-1", 0.7), contributor("creator-3", 0.3)]}
    )

    to_watch = only(alerting.evaluate(watch, {ENGAGEMENT: alert}, NOW)).alert
    to_new_top = only(alerting.evaluate(new_top, {ENGAGEMENT: alert}, NOW)).alert

    assert (to_watch.status, to_watch.severity, to_watch.revision) == ("watch", "warning", 2)
    assert to_new_top.summary.endswith("top contributor creator-1 (70%)")
    assert to_new_top.revision == 2


def test_an_acknowledged_alert_stays_acknowledged_through_updates() -> None:
    acked = alerting.acknowledge(opened(), NOW + HOUR, "ana")
    worse = DECAYING.model_copy(update={"reasons": [reason(change=-0.6)]})

    updated = only(alerting.evaluate(worse, {ENGAGEMENT: acked}, NOW + 2 * HOUR)).alert

    assert (updated.state, updated.acknowledged_at, updated.revision) == (
        "acknowledged",
        NOW + HOUR,
        3,
    )


def test_a_flicker_notes_the_absence_and_wipes_it_without_resolving() -> None:
    alert = opened()
    gone = view("healthy", as_of=T0 + HOUR)
    back = DECAYING.model_copy(update={"as_of": T0 + 2 * HOUR})

    noted = only(alerting.evaluate(gone, {ENGAGEMENT: alert}, NOW))
    assert noted.kind == "note"
    assert (noted.alert.clear_since, noted.alert.revision) == (T0 + HOUR, 1)
    assert alerting.evaluate(gone, {ENGAGEMENT: noted.alert}, NOW) == []

    wiped = only(alerting.evaluate(back, {ENGAGEMENT: noted.alert}, NOW))
    assert wiped.kind == "note"
    assert wiped.alert == alert


def test_resolves_after_six_hours_of_event_time_without_the_cause() -> None:
    alert = opened()
    cleared = only(alerting.evaluate(view("healthy", as_of=T0 + HOUR), {ENGAGEMENT: alert}, NOW))
    almost = view("healthy", as_of=T0 + 7 * HOUR - timedelta(seconds=1))
    enough = view("healthy", as_of=T0 + 7 * HOUR)

    assert alerting.evaluate(almost, {ENGAGEMENT: cleared.alert}, NOW + 100 * HOUR) == []
    action = only(alerting.evaluate(enough, {ENGAGEMENT: cleared.alert}, NOW + HOUR))

    assert action.kind == "resolve"
    resolved = action.alert
    assert (resolved.state, resolved.resolved_by, resolved.revision) == ("resolved", "monitor", 2)
    assert (resolved.resolved_at, resolved.event_time, resolved.status) == (
        NOW + HOUR,
        T0 + 7 * HOUR,
        "healthy",
    )
    assert resolved.clear_since == T0 + HOUR
    assert resolved.summary == (
        "Recovered: Engagement rate by views back in line with its baseline for 6h of event time"
    )
    assert alerting.evaluate(enough, {}, NOW) == []


def test_the_resolve_delay_is_configurable() -> None:
    alert = opened()
    policy = AlertPolicy(resolve_after=timedelta(0))

    action = only(alerting.evaluate(view("healthy"), {ENGAGEMENT: alert}, NOW, policy))

    assert action.kind == "resolve"


def test_a_cause_resolved_by_hand_does_not_reopen_until_it_has_cleared() -> None:
    resolved = alerting.resolve(opened(), NOW + HOUR, "ana")
    assert (resolved.state, resolved.resolved_by, resolved.revision) == ("resolved", "ana", 2)
    assert alerting.holds_cause(resolved)

    assert alerting.evaluate(DECAYING, {ENGAGEMENT: resolved}, NOW) == []
    released = only(
        alerting.evaluate(view("healthy", as_of=T0 + HOUR), {ENGAGEMENT: resolved}, NOW)
    )
    assert (released.kind, released.alert.revision) == ("note", 2)
    assert not alerting.holds_cause(released.alert)

    reopened = only(alerting.evaluate(DECAYING, {ENGAGEMENT: released.alert}, NOW))
    assert reopened.kind == "open"
    assert reopened.alert.alert_id != resolved.alert_id


def test_resolving_by_hand_after_the_cause_cleared_holds_nothing() -> None:
    alert = opened()
    cleared = only(alerting.evaluate(view("healthy", as_of=T0 + HOUR), {ENGAGEMENT: alert}, NOW))

    resolved = alerting.resolve(cleared.alert, NOW, "ana")

    assert not alerting.holds_cause(resolved)
    assert only(alerting.evaluate(DECAYING, {ENGAGEMENT: resolved}, NOW)).kind == "open"


def test_acknowledge_and_resolve_are_idempotent() -> None:
    alert = opened()
    acked = alerting.acknowledge(alert, NOW + HOUR, "ana")
    resolved = alerting.resolve(acked, NOW + 2 * HOUR, "ana")

    assert (acked.state, acked.revision, acked.acknowledged_at) == ("acknowledged", 2, NOW + HOUR)
    assert alerting.acknowledge(acked, NOW + 3 * HOUR, "ana") is acked
    assert (resolved.state, resolved.revision, resolved.resolved_at) == (
        "resolved",
        3,
        NOW + 2 * HOUR,
    )
    assert alerting.resolve(resolved, NOW + 3 * HOUR, "ana") is resolved
    assert alerting.acknowledge(resolved, NOW + 3 * HOUR, "ana") is resolved


def test_contributors_follow_the_reason_metric_else_all() -> None:
    cac = contributor("creator-9", 0.8, metric="cac")
    mixed = view(
        reasons=[reason(ENGAGEMENT), reason(CAC, 0.7)], contributors=[cac, *DECAYING.contributors]
    )

    by_cause = {a.alert.cause: a.alert for a in alerting.evaluate(mixed, {}, NOW)}
    assert [c.creator_id for c in by_cause[ENGAGEMENT].contributors] == ["creator-3", "creator-1"]
    assert [c.creator_id for c in by_cause[CAC].contributors] == ["creator-9"]
    unnamed = view(reasons=[reason("conversion_rate_drop", -0.5)], contributors=[cac])
    assert [c.creator_id for c in opened(unnamed).contributors] == ["creator-9"]


def test_summaries_in_plain_words() -> None:
    assert alerting.summary(reason(CAC, 0.634), []) == "CAC up 63% vs baseline over 24h"
    target = Reason(
        kind="cac_above_target",
        metric="cac",
        baseline=40.0,
        current=52.0,
        relative_change=0.3,
        window="7d",
    )
    assert alerting.summary(target, []) == "CAC up 30% vs target over 7d"
    unknown = reason("follower_spike", None).model_copy(update={"metric": "follower_count"})
    assert alerting.summary(unknown, []) == "Follower count n/a vs baseline 0.1 over 24h"


# Property tests: random sequences of evaluations, acknowledgements and manual resolutions.


@dataclass(frozen=True)
class Evaluate:
    advance: timedelta
    status: StatusName
    changes: dict[str, float]
    top: str


@dataclass(frozen=True)
class Manual:
    cause: str
    resolve: bool


Step = Evaluate | Manual

POLICY = AlertPolicy()

evaluations = st.builds(
    Evaluate,
    advance=st.integers(0, 8 * 60).map(lambda m: timedelta(minutes=m)),
    status=st.sampled_from(["healthy", "watch", "decaying", "insufficient_data"]),
    changes=st.dictionaries(st.sampled_from(CAUSES), st.floats(-0.99, 3.0), max_size=3),
    top=st.sampled_from(["creator-1", "creator-2"]),
)
manuals = st.builds(Manual, cause=st.sampled_from(CAUSES), resolve=st.booleans())
steps = st.lists(st.one_of(evaluations, evaluations, manuals), max_size=60)


@dataclass
class World:
    """What a repository would hold, plus what the test knows about the past."""

    alerts: dict[str, Alert] = field(default_factory=dict)
    as_of: datetime = T0
    now: datetime = NOW
    absent_since: dict[str, datetime] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)

    def tracked(self) -> dict[str, Alert]:
        by_cause: dict[str, Alert] = {}
        for alert in sorted(self.alerts.values(), key=lambda a: a.opened_at):
            if alert.state != "resolved" or alerting.holds_cause(alert):
                by_cause[alert.cause] = alert
        return by_cause

    def open_causes(self) -> list[str]:
        return [a.cause for a in self.alerts.values() if a.state != "resolved"]

    def write(self, alert: Alert, announced: bool) -> None:
        before = self.alerts.get(alert.alert_id)
        if before is None:
            assert alert.revision == 1
        else:
            assert alert.revision == before.revision + (1 if announced else 0)
        self.alerts[alert.alert_id] = alert


def source(step: Evaluate, as_of: datetime) -> CampaignView:
    reasons = [reason(cause, change) for cause, change in step.changes.items()]
    contributors = [
        contributor(step.top, 0.6, metric) for metric in {METRICS[c] for c in step.changes}
    ]
    return view(step.status, reasons, contributors, as_of)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_alert_lifecycle_invariants(history: list[Step]) -> None:
    world = World()
    for step in history:
        world.now += timedelta(seconds=1)
        if isinstance(step, Manual):
            alert = world.tracked().get(step.cause)
            if alert is None or alert.state == "resolved":
                continue
            change = alerting.resolve if step.resolve else alerting.acknowledge
            changed = change(alert, world.now, "ana")
            if changed is not alert:
                world.write(changed, announced=True)
            if step.resolve and step.cause not in world.absent_since:
                world.held.add(step.cause)
            continue

        world.as_of += step.advance
        current = source(step, world.as_of)
        for cause in CAUSES:
            if cause in step.changes:
                world.absent_since.pop(cause, None)
            else:
                world.absent_since.setdefault(cause, world.as_of)
                world.held.discard(cause)
        before = dict(world.alerts)
        actions = alerting.evaluate(current, world.tracked(), world.now, POLICY)
        for action in actions:
            alert = action.alert
            if action.kind == "open":
                assert alert.alert_id not in before
                assert alert.cause not in world.held
                assert current.status == "decaying"
            if action.kind == "resolve":
                absent = world.absent_since.get(alert.cause)
                assert absent is not None
                assert world.as_of - absent >= POLICY.resolve_after
                assert alert.resolved_by == "monitor"
            if action.kind == "update":
                assert before[alert.alert_id].state == alert.state
            world.write(alert, announced=action.kind != "note")

        causes = world.open_causes()
        assert len(causes) == len(set(causes)), "two open alerts for one cause"
        if current.status == "decaying":
            for cause in step.changes:
                assert cause in causes or cause in world.held
        again = alerting.evaluate(current, world.tracked(), world.now, POLICY)
        assert again == [], "an unchanged view must not change an alert"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-0.99, -0.35), min_size=1, max_size=30))
def test_revisions_only_move_on_material_change(changes: list[float]) -> None:
    world = World()
    last_points: int | None = None
    for change in changes:
        world.now += HOUR
        current = view(reasons=[reason(change=change)], as_of=world.as_of)
        actions = alerting.evaluate(current, world.tracked(), world.now, POLICY)
        points = round(change * 100)
        if last_points is None or abs(points - last_points) >= POLICY.material_points:
            assert [a.kind for a in actions] in (["open"], ["update"])
            last_points = points
        else:
            assert actions == []
        for action in actions:
            world.write(action.alert, announced=action.kind != "note")


def test_each_revision_says_which_state_change_it_is_or_that_it_is_an_update() -> None:
    alert = opened()
    worse = DECAYING.model_copy(update={"reasons": [reason(change=-0.6)]})
    updated = only(alerting.evaluate(worse, {ENGAGEMENT: alert}, NOW + HOUR)).alert
    acked = alerting.acknowledge(updated, NOW + 2 * HOUR, "ana")
    acked_then_updated = only(
        alerting.evaluate(DECAYING, {ENGAGEMENT: acked}, NOW + 3 * HOUR)
    ).alert
    resolved = alerting.resolve(acked_then_updated, NOW + 4 * HOUR, "ana")

    assert [
        alerting.change_of(a) for a in (alert, updated, acked, acked_then_updated, resolved)
    ] == ["firing", "updated", "acknowledged", "updated", "resolved"]


def creator(
    status: StatusName = "decaying",
    reasons: Sequence[Reason] = (reason(change=-0.48),),
    as_of: datetime | None = T0,
    creator_id: str = "ana",
) -> CreatorView:
    figures = campaign_view("c1", status, as_of=as_of, updated_at=NOW)
    return CreatorView(
        campaign_id="c1",
        creator_id=creator_id,
        platform="tiktok",
        followers=30_000,
        tier="micro",
        status=status,
        reasons=list(reasons),
        posts=4,
        totals=figures.totals,
        efficiency=figures.efficiency,
        windows=figures.windows,
        as_of=as_of,
        updated_at=NOW,
    )


def test_a_decaying_creator_opens_an_alert_of_its_own_naming_it() -> None:
    action = only(alerting.evaluate(creator(), {}, NOW, new_id=lambda: "a9"))

    assert action.kind == "open"
    alert = action.alert
    assert alert.creator_id == "ana"
    assert alert.cause == f"creator:ana:{ENGAGEMENT}"
    assert (alert.severity, alert.status, alert.state) == ("critical", "decaying", "firing")
    assert alert.summary == "Creator ana: Engagement rate by views down 48% vs baseline over 24h"
    # A campaign's own alerts carry no creator.
    assert opened().creator_id is None


def test_a_creator_on_watch_opens_nothing_and_one_alert_per_creator_and_cause() -> None:
    assert alerting.evaluate(creator("watch"), {}, NOW) == []
    first = only(alerting.evaluate(creator(), {}, NOW)).alert
    # The same creator's cause stays one alert, updated on a material change ...
    again = only(
        alerting.evaluate(creator("watch", [reason(change=-0.6)]), {first.cause: first}, NOW)
    )
    assert again.kind == "update"
    assert again.alert.alert_id == first.alert_id
    assert (again.alert.severity, again.alert.status) == ("warning", "watch")
    # ... while another creator's is another alert.
    other = only(alerting.evaluate(creator(creator_id="bo"), {}, NOW)).alert
    assert other.cause != first.cause


def test_a_creator_alert_resolves_once_its_cause_has_been_absent() -> None:
    alert = only(alerting.evaluate(creator(), {}, NOW)).alert
    cleared = creator("healthy", [], as_of=T0 + HOUR)
    note = only(alerting.evaluate(cleared, {alert.cause: alert}, NOW))
    assert note.kind == "note"
    later = creator("healthy", [], as_of=T0 + 7 * HOUR)
    resolved = only(alerting.evaluate(later, {alert.cause: note.alert}, NOW))
    assert resolved.kind == "resolve"
    assert resolved.alert.creator_id == "ana"


def test_no_creator_alert_opens_for_a_kind_its_campaign_is_decaying_for() -> None:
    # The campaign's alert names the creators driving it: one alert, not one per creator.
    assert alerting.evaluate(creator(), {}, NOW, campaign=DECAYING) == []
    holding = view("watch", reasons=[reason(change=-0.06)])
    assert only(alerting.evaluate(creator(), {}, NOW, campaign=holding)).kind == "open"
    cac = view(reasons=[reason(CAC, change=0.4)])
    assert only(alerting.evaluate(creator(), {}, NOW, campaign=cac)).kind == "open"
