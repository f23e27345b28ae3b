"""The estimators behind creator value and benchmarks: gamma quantiles, the empirical-Bayes prior
and its intervals, quartiles, trends across campaigns, tier bounds and reference matching."""

from __future__ import annotations

import math

import pytest

from services.domain.benchmark_references import references_for
from services.domain.benchmarks import quartiles
from services.domain.creator_ranking import estimate, fit_prior
from services.domain.creator_value import change_per_campaign, verdict
from services.domain.gamma import gamma_quantile, regularized_lower_gamma
from services.domain.tiers import DEFAULT_TIER_BOUNDS, tier_bounds, tier_range


@pytest.mark.parametrize(
    ("probability", "shape", "rate", "expected"),
    [
        (0.95, 0.5, 0.5, 3.841458820694124),  # chi-square, 1 degree of freedom
        (0.05, 1.0, 0.5, 0.10258658877510107),  # chi-square, 2 degrees of freedom
        (0.5, 3.0, 1.0, 2.674060313723561),
        (0.9, 1.0, 2.0, -math.log(0.1) / 2),  # exponential, rate 2
        (0.025, 200.0, 1.0, 173.0 - 0.6),  # near the normal approximation, 200 - 1.96 * sqrt(200)
    ],
)
def test_gamma_quantiles_match_known_values(
    probability: float, shape: float, rate: float, expected: float
) -> None:
    tolerance = 1.0 if shape == 200.0 else 1e-9
    assert gamma_quantile(probability, shape, rate) == pytest.approx(expected, abs=tolerance)


def test_the_gamma_quantile_inverts_the_distribution_function() -> None:
    for shape in (0.3, 1.5, 12.0, 400.0):
        for probability in (0.05, 0.5, 0.95):
            x = gamma_quantile(probability, shape, 1.0)
            assert regularized_lower_gamma(shape, x) == pytest.approx(probability, abs=1e-9)


def test_gamma_quantile_refuses_what_has_no_answer() -> None:
    with pytest.raises(ValueError, match="probability"):
        gamma_quantile(1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="rate"):
        gamma_quantile(0.5, 1.0, 0.0)


def test_quartiles_interpolate_between_order_statistics() -> None:
    spread = quartiles([4.0, 1.0, 3.0, 2.0, 5.0])
    assert spread is not None
    assert (spread.p25, spread.median, spread.p75) == (2.0, 3.0, 4.0)
    even = quartiles([1.0, 2.0, 3.0, 4.0])
    assert even is not None
    assert (even.p25, even.median, even.p75) == (1.75, 2.5, 3.25)
    single = quartiles([0.2])
    assert single is not None
    assert (single.p25, single.median, single.p75) == (0.2, 0.2, 0.2)
    assert quartiles([]) is None


STEADY = [(16 + i, 2.0) for i in range(4)]  # 8 to 9.5 new customers per 1,000 on 2,000 spent
LUCKY = (1, 0.025)  # one customer on 25 spent: 40 per 1,000


def test_the_prior_is_centred_on_the_pool_and_weighs_less_than_a_typical_creator() -> None:
    prior = fit_prior("USD", [*STEADY, LUCKY])

    pooled = (16 + 17 + 18 + 19 + 1) / 8.025
    assert prior.mean_per_1000 == pytest.approx(pooled)
    assert prior.shape / prior.rate == pytest.approx(pooled)
    assert 0 < prior.rate <= 2.0  # capped at the median exposure
    assert prior.creators == 5


def test_no_spread_beyond_poisson_noise_shrinks_as_far_as_the_cap() -> None:
    alike = [(10, 1.0)] * 6
    prior = fit_prior("EUR", alike)
    assert prior.rate == 1.0
    assert prior.mean_per_1000 == pytest.approx(10.0)


def test_a_lucky_customer_on_a_tiny_spend_is_shrunk_and_ranks_below_a_steady_creator() -> None:
    prior = fit_prior("USD", [*STEADY, LUCKY])
    lucky = estimate(1, 25.0, prior)
    steady = estimate(16, 2_000.0, prior)

    assert lucky.observed == pytest.approx(40.0)
    assert steady.observed == pytest.approx(8.0)
    assert lucky.estimate < 10.0  # pulled from 40 to near the pool
    assert lucky.low < steady.low  # and its interval is wide: it ranks lower
    assert lucky.high - lucky.low > steady.high - steady.low
    assert steady.low < steady.estimate < steady.high


def test_without_spend_the_estimate_is_the_prior() -> None:
    prior = fit_prior("USD", STEADY)
    nothing = estimate(0, 0.0, prior)
    assert nothing.observed is None
    assert nothing.estimate == pytest.approx(prior.mean_per_1000)


def test_a_currency_without_customers_gets_a_proper_prior_near_zero() -> None:
    prior = fit_prior("GBP", [(0, 1.0), (0, 3.0), (0, 2.0)])
    assert prior.shape > 0
    assert prior.mean_per_1000 < 0.2
    assert estimate(0, 1_000.0, prior).low < 0.01


def test_change_per_campaign_is_fitted_within_each_currency() -> None:
    # USD CAC 10 then 20 (doubling); a EUR campaign between at 1,000 must not count.
    points = [(0, 10.0, "USD"), (1, 1_000.0, "EUR"), (2, 20.0, "USD")]
    assert change_per_campaign(points) == pytest.approx(math.sqrt(2) - 1)
    assert change_per_campaign([(0, 10.0, "USD"), (1, 20.0, "EUR")]) is None
    assert change_per_campaign([(0, 0.05, None), (1, 0.05, None)]) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("change", "higher_is_better", "expected"),
    [
        (None, True, "insufficient_data"),
        (-0.2, True, "fading"),
        (0.05, True, "holding"),
        (0.2, True, "improving"),
        (0.2, False, "fading"),
        (-0.2, False, "improving"),
    ],
)
def test_verdicts(change: float | None, higher_is_better: bool, expected: str) -> None:
    assert verdict(change, higher_is_better) == expected


def test_tier_bounds_are_ordered_and_must_cover_every_creator() -> None:
    assert tier_bounds({"big": 100_000, "small": 0}) == (("small", 0), ("big", 100_000))
    assert tier_range("mid", DEFAULT_TIER_BOUNDS) == (50_000, 500_000)
    assert tier_range("mega", DEFAULT_TIER_BOUNDS) == (1_000_000, None)
    with pytest.raises(ValueError, match="start at 0"):
        tier_bounds({"small": 1_000, "big": 100_000})
    with pytest.raises(ValueError, match="same follower count"):
        tier_bounds({"small": 0, "big": 0})


def test_references_are_those_for_overlapping_accounts_on_the_platform() -> None:
    micro = references_for((10_000, 50_000), "instagram")
    assert {(r.source, r.value) for r in micro} == {
        ("HypeAuditor 2018, Instagram, ~37k accounts", 0.0228),
        ("HypeAuditor 2018, Instagram, ~37k accounts", 0.0162),
        ("HypeAuditor 2026, Instagram", 0.0054),
    }
    assert all(r.denominator == "followers" for r in micro)
    assert [r.value for r in references_for((1_000_000, None), "tiktok")] == [0.0495]
