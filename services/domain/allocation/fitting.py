"""Each creator's return (new customers per unit of spend at its current spend), with its
posterior, from a three-level gamma-Poisson model: creators within their tier, tiers within the
campaign. Every unknown above the creators (the campaign's rate, each tier's, and how far
creators and tiers spread) is integrated over on a grid rather than plugged in, so a tier mean
read off one lucky creator, or a spread estimated from a handful, does not make one creator look
reliably better than another.

A creator's weekly new customers ``y`` at spend ``x`` and persistent rate ``r`` have mean ``r x``
and variance ``phi r x + (c^2 / k) (r x)^2``: ``phi`` for orders beyond Poisson, ``c / sqrt(k)``
for the week's luck of reach (``k`` posts whose views vary with coefficient of variation ``c``),
which does not carry over to next week. The count is scaled by its effective dispersion ``d =
phi + (c^2 / k) x m`` (``m`` the campaign's pooled rate), so a big creator's hundreds of
customers from one post weigh what one post's worth of evidence weighs. Then ``y/d`` given
``r`` is quasi-Poisson with exposure ``x/d``, ``r ~ Gamma(shape alpha, mean m_tier)``,
``m_tier ~ Gamma(shape beta, mean mu)``, ``mu`` flat on the log scale, and the spreads
``1/sqrt(alpha)`` and ``1/sqrt(beta)`` half-Cauchy.
The method in full: ``docs/budget-moves.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.domain.allocation.response import Array
from services.domain.allocation.settings import AllocationSettings

# Grids of the integration: spreads (coefficients of variation) and log-rates around the
# campaign's pooled rate; wide enough that the posterior mass sits well inside them.
SPREADS = np.geomspace(0.02, 1.5, 20)
CAMPAIGN_OFFSETS = np.linspace(-3.0, 3.0, 41)
TIER_OFFSETS = np.linspace(-4.0, 4.0, 97)


@dataclass(frozen=True)
class RateFit:
    """The fitted model: ``rates`` and ``headrooms`` are (creators, draws); ``tier_means``
    (tiers, draws) in the order of ``tiers``; ``creator_spreads`` (draws,)."""

    campaign_rate: float
    tiers: list[str]
    tier_means: Array
    creator_spreads: Array
    rates: Array
    headrooms: Array

    @property
    def posterior_means(self) -> Array:
        result: Array = self.rates.mean(axis=1)
        return result


def gammaln(values: Array) -> Array:
    """The log-gamma function elementwise (the arrays here are a few tens of thousands)."""
    result: Array = np.vectorize(math.lgamma, otypes=[float])(values)
    return result


def logsumexp(values: Array, axis: int | None = None, keepdims: bool = False) -> Array:
    top = np.max(values, axis=axis, keepdims=True)
    result: Array = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    if not keepdims:
        result = np.squeeze(result, axis=axis)
    return result


def _log_half_cauchy(scale: float) -> Array:
    """Log prior weight of each spread on its log-spaced grid (the Jacobian is the spread)."""
    weights: Array = np.log(SPREADS) - np.log1p((SPREADS / scale) ** 2)
    return weights - logsumexp(weights)


def _log_gamma_density(values: Array, shape: Array, mean: Array) -> Array:
    rate = shape / mean
    result: Array = (
        shape * np.log(rate) - gammaln(shape) + (shape - 1.0) * np.log(values) - rate * values
    )
    return result


def _tier_likelihoods(counts: Array, exposures: Array, members: Array, tier_grid: Array) -> Array:
    """Log marginal likelihood of each tier's creators (their rates integrated out) at each
    creator shape and tier mean: (shapes, tiers, tier grid)."""
    shape = (1.0 / SPREADS**2)[:, None, None]
    mean = tier_grid[None, None, :]
    y, x = counts[None, :, None], exposures[None, :, None]
    per_creator = (
        gammaln(shape + y)
        - gammaln(shape)
        + shape * np.log(shape / (shape + mean * x))
        + y * np.log(mean * x / (shape + mean * x))
    )
    result: Array = np.einsum("act,kc->akt", per_creator, members)
    return result


def fit_rates(
    spend: Array,
    customers: Array,
    tiers: Sequence[str],
    settings: AllocationSettings,
    posts: Array | None = None,
) -> RateFit:
    """Posterior draws of each creator's rate and headroom. ``spend`` must be positive;
    ``posts`` (how many posts the spend paid for) defaults to the settings' typical week."""
    if spend.shape != customers.shape or len(tiers) != spend.size or np.any(spend <= 0):
        raise ValueError("spend, customers and tiers must align, with positive spend")
    if posts is None:
        posts = np.full(spend.size, settings.typical_posts)
    # A campaign with no new customers yet still needs a positive centre: half a customer.
    pooled = float(max(customers.sum(), 0.5) / spend.sum())
    luck = settings.post_reach_cv**2 / posts
    dispersion = settings.count_dispersion + luck * spend * pooled
    counts, exposures = customers / dispersion, spend / dispersion
    names = sorted(set(tiers))
    members = np.array([[t == name for t in tiers] for name in names], dtype=float)
    tier_grid = pooled * np.exp(TIER_OFFSETS)
    campaign_grid = pooled * np.exp(CAMPAIGN_OFFSETS)
    tier_step = float(TIER_OFFSETS[1] - TIER_OFFSETS[0])

    likelihood = _tier_likelihoods(counts, exposures, members, tier_grid)
    # Prior of a tier mean (on the log grid: density times the mean) given the campaign's
    # rate and the tiers' shape: (tier shapes, campaign grid, tier grid).
    tier_shape = (1.0 / SPREADS**2)[:, None, None]
    tier_prior = _log_gamma_density(
        tier_grid[None, None, :], tier_shape, campaign_grid[None, :, None]
    ) + np.log(tier_grid * tier_step)
    per_tier = _integrate_tier_means(likelihood, tier_prior)
    hyper = (
        per_tier.sum(axis=-1)
        + _log_half_cauchy(settings.creator_spread_scale)[:, None, None]
        + _log_half_cauchy(settings.tier_spread_scale)[None, :, None]
    )
    rng = np.random.default_rng(settings.seed)
    picked = rng.choice(hyper.size, size=settings.draws, p=_normalised(hyper.ravel()))
    creator_at, tier_at, campaign_at = np.unravel_index(picked, hyper.shape)
    # Each tier's mean given the drawn hyperparameters: (draws, tiers, tier grid).
    conditional = likelihood[creator_at] + tier_prior[tier_at, campaign_at][:, None, :]
    cumulative = np.cumsum(_normalised(conditional), axis=-1)
    uniform = rng.random((settings.draws, len(names), 1))
    index = np.minimum((cumulative < uniform).sum(axis=-1), TIER_OFFSETS.size - 1)
    jitter = tier_step * (rng.random(index.shape) - 0.5)
    tier_means = (tier_grid[index] * np.exp(jitter)).T
    creator_shape = 1.0 / SPREADS[creator_at] ** 2
    mean_of_creator = members.T @ tier_means
    rates = rng.gamma(
        creator_shape[None, :] + counts[:, None],
        1.0 / (creator_shape[None, :] / mean_of_creator + exposures[:, None]),
    )
    count = (spend.size, settings.draws)
    headrooms = settings.headroom_median * np.exp(
        settings.headroom_sigma * rng.standard_normal(count)
    )
    return RateFit(
        campaign_rate=pooled,
        tiers=names,
        tier_means=tier_means,
        creator_spreads=SPREADS[creator_at],
        rates=rates,
        headrooms=headrooms,
    )


def _integrate_tier_means(likelihood: Array, tier_prior: Array) -> Array:
    """Log of the sum over the tier grid of likelihood (creator shapes, tiers, grid) times prior
    (tier shapes, campaign grid, grid): (creator shapes, tier shapes, campaign grid, tiers). A
    matrix product of the exponentials, each scaled by its maximum; combinations that
    underflow weigh nothing against the best."""
    likely_top = likelihood.max(axis=-1)
    prior_top = tier_prior.max(axis=-1)
    product = np.tensordot(
        np.exp(likelihood - likely_top[..., None]),
        np.exp(tier_prior - prior_top[..., None]),
        axes=([2], [2]),
    )
    with np.errstate(divide="ignore"):
        result: Array = (
            np.log(product.transpose(0, 2, 3, 1))
            + likely_top[:, None, None, :]
            + prior_top[None, :, :, None]
        )
    return result


def _normalised(log_weights: Array) -> Array:
    """Probabilities from log weights along the last axis."""
    result: Array = np.exp(log_weights - logsumexp(log_weights, axis=-1, keepdims=True))
    return result
