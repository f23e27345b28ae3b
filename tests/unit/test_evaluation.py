"""The evaluation harness scores a short replay of labelled campaigns."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.domain.windows import HOUR
from services.evaluation.harness import START, CampaignOutcome, decline_floor, replay_seed, score
from services.simulator.plans import CampaignPlan, generate_campaigns


def _plan(scenario: str) -> CampaignPlan:
    plans = generate_campaigns(1, 12, START, timedelta(days=10))
    return next(p for p in plans if p.scenario == scenario)


def test_a_short_replay_is_scored() -> None:
    outcomes = replay_seed(3, 6, 6, 9)
    scores = score(outcomes, [3])

    assert scores.campaigns == 6
    assert scores.decaying == sum(1 for o in outcomes if o.onset is not None)
    assert 0.0 <= scores.precision <= 1.0 and 0.0 <= scores.recall <= 1.0
    assert scores.healthy_campaign_weeks > 0
    assert set(scores.by_scenario) == {o.scenario for o in outcomes}
    for outcome in outcomes:
        if outcome.caught_at is not None:
            assert outcome.onset is not None and outcome.caught_at >= outcome.onset


def test_scores_count_catches_delays_and_false_alerts() -> None:
    onset = 1_000 * HOUR
    outcomes = [
        CampaignOutcome(1, "a", "sudden_drop", 5, onset, caught_at=onset + 6 * HOUR),
        CampaignOutcome(1, "b", "engagement_fatigue", 5, onset, caught_at=onset + 30 * HOUR),
        CampaignOutcome(1, "c", "cac_creep", 5, onset),
        CampaignOutcome(1, "d", "healthy", 5, None, false_alerts=1, healthy_seconds=14 * 24 * HOUR),
    ]
    scores = score(outcomes, [1])

    assert (scores.caught, scores.decaying, scores.false_alerts) == (2, 3, 1)
    assert scores.precision == 2 / 3
    assert scores.recall == 2 / 3
    assert scores.median_delay_hours == 18
    assert scores.false_alerts_per_healthy_campaign_week == 0.5
    assert scores.median_floor_hours is None


def test_the_floor_is_when_the_true_decline_first_reaches_the_minimum_drop() -> None:
    fatigue = _plan("engagement_fatigue")
    steady = tuple(replace(c, susceptibility=1.0) for c in fatigue.creators)
    ten_a_day = replace(fatigue, creators=steady, decline_per_day=0.1)
    assert fatigue.onset is not None

    assert decline_floor(ten_a_day) == (fatigue.onset + timedelta(days=1)).timestamp()
    # 0.9 ** (h / 24) <= 0.82 from h = 45.2
    assert decline_floor(ten_a_day, 0.18) == (fatigue.onset + timedelta(hours=46)).timestamp()
    assert decline_floor(replace(ten_a_day, decline_per_day=0.0)) is None
    assert decline_floor(_plan("healthy")) is None


def test_a_sudden_drop_floors_within_the_hour_and_a_cac_creep_by_its_conversions() -> None:
    drop, creep = _plan("sudden_drop"), _plan("cac_creep")
    assert drop.onset is not None and creep.onset is not None

    assert decline_floor(drop) == (drop.onset + timedelta(hours=1)).timestamp()
    floor = decline_floor(creep)
    assert floor is not None and creep.onset.timestamp() < floor


def test_a_creator_collapse_floors_on_its_creator_and_counts_creator_false_alerts() -> None:
    plan = next(
        p
        for p in generate_campaigns(1, 60, START, timedelta(days=10))
        if p.scenario == "creator_collapse"
    )
    assert plan.onset is not None
    # Halving linearly at ``decline_per_day``, the creator has lost 10% after a fifth of its
    # ramp; averaged over fifteen creators or more the campaign never would.
    ramp = timedelta(days=0.5 / plan.decline_per_day)
    floor = decline_floor(plan)
    assert floor is not None
    assert timedelta(seconds=floor - plan.onset.timestamp()) - ramp / 5 < timedelta(hours=1)

    onset = 1_000 * HOUR
    outcomes = [
        CampaignOutcome(1, "a", "creator_collapse", 16, onset, caught_at=onset + 20 * HOUR),
        CampaignOutcome(1, "b", "creator_collapse", 18, onset, campaign_alerts=1),
        CampaignOutcome(
            1, "c", "healthy", 20, None, creator_false_alerts=1, healthy_seconds=14 * 24 * HOUR
        ),
    ]
    scores = score(outcomes, [1])

    assert (scores.caught, scores.decaying, scores.false_alerts) == (1, 2, 1)
    assert scores.by_scenario["creator_collapse"]["campaign_alerts"] == 1
    assert scores.by_scenario["creator_collapse"]["false_alerts"] == 0
    assert scores.by_scenario["healthy"]["creator_false_alerts"] == 1
    assert scores.false_alerts_per_healthy_campaign_week == 0.5


def test_a_cost_escalation_floors_at_its_25_percent_rise_and_is_due_a_cac_reason() -> None:
    plans = generate_campaigns(1, 20, START, timedelta(days=10))
    escalation = next(p for p in plans if p.scenario == "cost_escalation")
    risen = escalation.cost_risen_at(0.25)
    assert escalation.onset is not None and risen is not None
    assert decline_floor(escalation) == risen.timestamp()

    onset, floor = escalation.onset.timestamp(), risen.timestamp()

    def outcome(caught: float | None, flagged: float | None) -> CampaignOutcome:
        return CampaignOutcome(
            1,
            "e",
            "cost_escalation",
            10,
            onset,
            floor,
            caught,
            cac_due=True,
            cac_flagged_at=flagged,
        )

    in_time = outcome(floor + 30 * HOUR, floor + 30 * HOUR)
    late = outcome(floor + 50 * HOUR, floor + 50 * HOUR)
    # Caught in time, but by another reason than CAC's.
    other = outcome(floor + 10 * HOUR, None)
    row = score([in_time, late, other], [1]).by_scenario["cost_escalation"]
    assert row["caught"] == 3
    assert row["cac_in_time"] == 1
    assert row["median_beyond_floor_hours"] == 30
    assert (
        score([in_time], [1]).by_scenario["cost_escalation"]["median_floor_hours"]
        == (floor - onset) / HOUR
    )
