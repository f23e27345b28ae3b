from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from services.domain.allocation import AllocationSettings, CreatorInput, recommend
from services.domain.allocation.fitting import fit_rates
from services.domain.allocation.inputs import creator_input
from services.domain.allocation.response import ResponseDraws
from services.domain.state import CreatorState
from services.domain.views import creator_view


def test_fitting_recovers_known_rates_from_synthetic_counts() -> None:
    rng = np.random.default_rng(7)
    true_rates = np.repeat([0.01, 0.03, 0.06], 8)
    spend = rng.uniform(2_000, 4_000, true_rates.size)
    # A post a day, each reaching by a lognormal of sigma 0.45.
    posts = np.full(true_rates.size, 7.0)
    luck = rng.lognormal(-(0.45**2) / 2, 0.45, (true_rates.size, 7)).mean(axis=1)
    customers = rng.poisson(true_rates * spend * luck).astype(float)

    fit = fit_rates(spend, customers, ["micro"] * true_rates.size, AllocationSettings(), posts)

    means = fit.posterior_means
    for rate in (0.01, 0.03, 0.06):
        mine = true_rates == rate
        assert means[mine].mean() == pytest.approx(rate, rel=0.15)
    low, high = np.quantile(fit.rates, [0.05, 0.95], axis=1)
    assert np.mean((low <= true_rates) & (true_rates <= high)) >= 0.8


def test_alike_creators_are_pooled_to_their_tier() -> None:
    rng = np.random.default_rng(3)
    spend = np.full(20, 1_000.0)
    customers = rng.poisson(0.02 * spend).astype(float)

    fit = fit_rates(spend, customers, ["mid"] * 20, AllocationSettings())

    assert np.median(fit.creator_spreads) < 0.15
    assert np.ptp(fit.posterior_means) < 0.25 * np.ptp(customers / spend)


def test_a_tier_read_off_one_creator_stays_uncertain() -> None:
    spend = np.array([600.0, 250.0, 300.0, 250.0, 320.0, 170.0])
    customers = np.array([6.0, 6.0, 7.0, 9.0, 9.0, 4.0])
    tiers = ["mid"] + ["micro"] * 5

    fit = fit_rates(spend, customers, tiers, AllocationSettings())

    mid = fit.tier_means[fit.tiers.index("mid")]
    low, high = np.quantile(mid, [0.1, 0.9])
    # Six customers from one creator: the tier's mean is known to within a factor of two at best.
    assert high / low > 2.0
    assert low < customers[0] / spend[0] < high


def test_a_big_creator_s_lucky_week_counts_as_a_few_posts_not_hundreds_of_orders() -> None:
    spend = np.array([19_445.0, 15_165.0, 17_835.0, 475.0, 630.0])
    customers = np.array([450.0, 289.0, 133.0, 4.0, 5.0])
    tiers = ["mega", "mid", "mega", "micro", "micro"]

    fit = fit_rates(spend, customers, tiers, AllocationSettings())
    poisson = fit_rates(spend, customers, tiers, AllocationSettings(post_reach_cv=0.0))

    def sure_first_beats_third(rates: np.ndarray) -> float:
        return float(np.mean(rates[0] > rates[2]))

    assert sure_first_beats_third(poisson.rates) > 0.99
    assert sure_first_beats_third(fit.rates) < sure_first_beats_third(poisson.rates)


def test_the_curve_passes_through_what_was_observed_and_bends() -> None:
    spend = np.array([500.0])
    curves = ResponseDraws.through(np.array([[0.04]]), np.array([[1.5]]), spend)

    at = curves.customers(np.array([500.0, 1_000.0]).reshape(1, 2))[0, :, 0]
    assert at[0] == pytest.approx(20.0)
    assert at[1] < 40.0
    marginal = curves.marginal(spend)[0, 0]
    assert marginal < 0.04
    assert (curves.customers(np.array([501.0]))[0, 0] - 20.0) == pytest.approx(marginal, rel=1e-3)


def _creator(
    creator_id: str, spend: float, customers: int, excluded: str | None = None
) -> CreatorInput:
    status = "decaying" if excluded else "healthy"
    return CreatorInput(creator_id, "micro", "tiktok", status, spend, customers, excluded)


def test_moves_stay_within_the_weekly_bounds_and_the_budget() -> None:
    creators = [_creator("good", 1_000, 200), _creator("poor", 1_000, 15)]
    creators += [_creator(f"mid{i}", 500, 40) for i in range(3)]

    recommendation = recommend("c", "EUR", None, creators)

    assert recommendation.moves
    assert recommendation.proposed_budget == pytest.approx(recommendation.budget, abs=0.05)
    for creator in recommendation.creators:
        change = creator.proposed_spend / creator.current_spend - 1.0
        assert -0.3 - 1e-6 <= change <= 0.3 + 1e-6
    proposed = {c.creator_id: c.proposed_spend for c in recommendation.creators}
    assert proposed["good"] == pytest.approx(1_300.0)
    assert proposed["poor"] == pytest.approx(700.0)
    assert all(m.probability > 0.8 for m in recommendation.moves)


def test_a_higher_threshold_holds_back_an_uncertain_move() -> None:
    creators = [_creator("a", 800, 45), _creator("b", 800, 25)]

    loose = recommend(
        "c", None, None, creators, settings=AllocationSettings(probability_threshold=0.6)
    )
    strict = recommend("c", None, None, creators)

    assert loose.moves and 0.6 < loose.moves[0].probability < 0.8
    assert strict.moves == []
    assert strict.reason is not None and "not above 0.80" in strict.reason


def test_a_decaying_creator_never_receives_budget_however_cheap() -> None:
    creators = [
        _creator("fading", 1_000, 300, "decaying: receives no budget"),
        _creator("steady", 1_000, 60),
        _creator("poor", 1_000, 10),
    ]

    recommendation = recommend("c", "USD", None, creators)

    proposed = {c.creator_id: c.proposed_spend for c in recommendation.creators}
    assert proposed["fading"] <= 1_000.0
    assert all(m.to_creator_id != "fading" for m in recommendation.moves)
    assert ("poor", "steady") in {
        (m.from_creator_id, m.to_creator_id) for m in recommendation.moves
    }


@pytest.mark.parametrize(
    ("creators", "reason"),
    [
        ([_creator("a", 500, 4), _creator("b", 500, 6)], "too little data: 10 new customers"),
        ([_creator("a", 500, 40)], "too little data: 1 creator(s) with spend"),
        (
            [_creator("a", 500, 40, "decaying"), _creator("b", 500, 30, "decaying")],
            "no creator may receive budget",
        ),
        (
            [_creator(f"c{i}", 1_000, 30) for i in range(6)],
            "no creator is reliably better than another",
        ),
    ],
)
def test_no_moves_come_with_the_reason(creators: list[CreatorInput], reason: str) -> None:
    recommendation = recommend("c", "USD", None, creators)

    assert recommendation.moves == []
    assert recommendation.reason is not None and recommendation.reason.startswith(reason)
    assert all(c.proposed_spend == c.current_spend for c in recommendation.creators)


def test_the_week_s_posts_are_read_off_the_view_at_its_average_spend_a_post() -> None:
    empty = creator_view(CreatorState("c", "ana"), 1e9, "healthy", [], datetime.now(UTC))
    week = empty.windows["7d"].model_copy(update={"spend": 450.0, "new_customers": 12})
    view = empty.model_copy(
        update={
            "posts": 8,
            "totals": empty.totals.model_copy(update={"spend": 1_200.0}),
            "windows": {**empty.windows, "7d": week},
        }
    )

    assert creator_input(empty).posts is None
    assert creator_input(view).posts == pytest.approx(3.0)
    assert creator_input(view).new_customers == 12
