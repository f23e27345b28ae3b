"""Each creator's return (new customers per unit of spend at its current spend), shrunk toward its
tier's and the campaign's where its data are thin, with its posterior.

An empirical-Bayes gamma-Poisson model. A creator's weekly new customers ``y`` at spend ``x``
are counts with mean ``r x`` and variance ``phi r x`` (``phi``, the dispersion, because posts
differ in reach). Its rate ``r`` has a gamma prior with mean ``m`` (its tier's pooled rate, itself
pulled toward the campaign's) and shape ``alpha``, estimated from how much more the creators'
observed rates spread than their counts' noise explains (method of moments). The posterior is
gamma again: shape ``alpha + y/phi``, rate ``alpha/m + x/phi``. When the creators are alike the
spread is all noise, ``alpha`` is large and every creator is pulled to its tier: no creator looks
reliably better by luck.
The method in full: ``docs/budget-moves.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.domain.allocation.response import Array
from services.domain.allocation.settings import AllocationSettings


@dataclass(frozen=True)
class RateFit:
    """The fitted model: ``rates`` and ``headrooms`` are (creators, draws)."""

    campaign_rate: float
    tier_rates: dict[str, float]
    prior_shape: float
    prior_means: Array
    posterior_shapes: Array
    posterior_rates: Array
    rates: Array
    headrooms: Array

    @property
    def posterior_means(self) -> Array:
        result: Array = self.posterior_shapes / self.posterior_rates
        return result


def tier_rates(
    spend: Array, customers: Array, tiers: Sequence[str], prior_spend: float
) -> tuple[float, dict[str, float]]:
    """The campaign's pooled rate and each tier's, pulled toward the campaign's with the weight
    of ``prior_spend`` of spend at the campaign's rate."""
    campaign = float(customers.sum() / spend.sum())
    names = np.asarray(tiers)
    found = {}
    for tier in sorted(set(tiers)):
        mine = names == tier
        found[tier] = float(
            (customers[mine].sum() + campaign * prior_spend) / (spend[mine].sum() + prior_spend)
        )
    return campaign, found


def prior_shape(
    spend: Array, customers: Array, means: Array, settings: AllocationSettings
) -> float:
    """Method-of-moments shape of the creators' rates around their prior means: the spread of
    the observed rates beyond the counts' noise, spend-weighted, over the means' square."""
    observed = customers / spend
    noise = settings.count_dispersion * means / spend
    excess = float(np.sum(spend * ((observed - means) ** 2 - noise)))
    scale = float(np.sum(spend * means**2))
    if excess <= 0.0 or scale <= 0.0:
        return settings.max_prior_shape
    return float(np.clip(scale / excess, settings.min_prior_shape, settings.max_prior_shape))


def fit_rates(
    spend: Array, customers: Array, tiers: Sequence[str], settings: AllocationSettings
) -> RateFit:
    """Posterior draws of each creator's rate and headroom. ``spend`` must be positive."""
    if spend.shape != customers.shape or len(tiers) != spend.size or np.any(spend <= 0):
        raise ValueError("spend, customers and tiers must align, with positive spend")
    prior_spend = settings.tier_prior_spends * float(np.median(spend))
    campaign, by_tier = tier_rates(spend, customers, tiers, prior_spend)
    # A campaign with no new customers yet still needs a positive prior mean: half a customer.
    floor = 0.5 / float(spend.sum())
    means = np.array([max(by_tier[t], floor) for t in tiers])
    shape = prior_shape(spend, customers, means, settings)
    dispersion = settings.count_dispersion
    shapes = shape + customers / dispersion
    rates_of_gamma = shape / means + spend / dispersion
    rng = np.random.default_rng(settings.seed)
    count = (spend.size, settings.draws)
    rates = rng.gamma(shapes[:, None], 1.0 / rates_of_gamma[:, None], size=count)
    headrooms = settings.headroom_median * np.exp(
        settings.headroom_sigma * rng.standard_normal(count)
    )
    return RateFit(
        campaign_rate=campaign,
        tier_rates=by_tier,
        prior_shape=shape,
        prior_means=means,
        posterior_shapes=shapes,
        posterior_rates=rates_of_gamma,
        rates=rates,
        headrooms=headrooms,
    )
