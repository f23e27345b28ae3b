"""The evaluation harness scores a short replay of labelled campaigns."""

from __future__ import annotations

from services.domain.windows import HOUR
from services.evaluation.harness import CampaignOutcome, replay_seed, score


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
