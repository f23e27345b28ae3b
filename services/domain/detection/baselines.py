"""Each creator's baseline rate and the noise around it: the statistical helpers of the tests.

A creator's expected count in a block is its baseline rate times its views there. Its noise is
counting (Poisson) noise plus a multiplicative term ``c^2`` (one post is simply better than
another), estimated robustly on the baseline blocks at its 80% upper confidence bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from services.domain.detection.settings import (
    CHI2_1_MEDIAN,
    POST_BLOCKS,
    PRIOR_COUNT,
    RATE_SPREAD,
    RELATIVE_NOISE_FLOOR,
    Z_20,
)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Each creator's baseline rate (0 for a creator left out), the prior's share of it, and the
    campaign's pooled rate."""

    rates: list[float]
    prior_weights: list[float]
    pooled: float


def baseline_rates(
    views: Sequence[Sequence[float]],
    counts: list[list[int]],
    span: range,
    prior_count: float = PRIOR_COUNT,
) -> Baseline:
    """Each creator's baseline rate, shrunk towards the campaign's (empirical Bayes).

    A creator with a few thousand views and two lucky conversions would otherwise predict far
    more than it will deliver; the prior weighs as much as ``PRIOR_COUNT`` events at the pooled
    rate. A creator whose own data weighs less than the prior gets no rate (it is left out).
    Without a prior (``prior_count`` 0) every creator with views has its own rate.
    """
    creator_views = [sum(v[span.start : span.stop]) for v in views]
    creator_counts = [sum(c[span.start : span.stop]) for c in counts]
    pooled_views, pooled_counts = sum(creator_views), sum(creator_counts)
    pooled = pooled_counts / pooled_views if pooled_views > 0 else 0.0
    prior_views = prior_count / pooled if pooled > 0 else 0.0
    rates, weights = [], []
    for own_views, own_counts in zip(creator_views, creator_counts, strict=True):
        if pooled <= 0 or own_views <= 0 or own_views < prior_views:
            rates.append(0.0)
            weights.append(1.0)
            continue
        weight = own_views + prior_views
        rates.append((own_counts + prior_views * pooled) / weight)
        weights.append(prior_views / weight)
    return Baseline(rates, weights, pooled)


def expected_counts(views: Sequence[Sequence[float]], base: Baseline, block: int) -> list[float]:
    """Each creator's expected count in ``block``: its baseline rate times its views there."""
    return [rate * v[block] for rate, v in zip(base.rates, views, strict=True)]


def observed_count(counts: list[list[int]], base: Baseline, block: int) -> float:
    """The count in ``block`` of the creators that have a baseline rate."""
    return float(sum(c[block] for rate, c in zip(base.rates, counts, strict=True) if rate > 0))


def shortfall_by_creator(
    views: Sequence[Sequence[float]], counts: list[list[int]], base: Baseline, run: range
) -> list[float]:
    """Each creator's expected minus observed count over ``run`` (0 for one left out)."""
    return [
        sum(rate * v[b] - c[b] for b in run) if rate > 0 else 0.0
        for rate, v, c in zip(base.rates, views, counts, strict=True)
    ]


def relative_noise(
    views: Sequence[Sequence[float]],
    counts: list[list[int]],
    base: Baseline,
    span: range,
    floor: float = RELATIVE_NOISE_FLOOR,
) -> float:
    """Robust estimate of the multiplicative noise ``c^2`` of a creator's rate, on baseline blocks.

    Under the model ``(O - E)^2 - E`` has mean ``c^2 Q`` with ``Q = sum_i e_i^2``; the median of
    its ratio to ``Q``, divided by the median of a chi-square(1) variable, is insensitive to a few
    outlying blocks.
    """
    ratios = []
    for b in span:
        expected = expected_counts(views, base, b)
        e = sum(expected)
        q = sum(x * x for x in expected)
        if e > 0 and q > 0:
            ratios.append(((observed_count(counts, base, b) - e) ** 2 - e) / q)
    if len(ratios) < 4:
        return floor**2
    # The upper 80% confidence bound rather than the point estimate: a variance estimated from
    # a few dozen blocks is easily too small, and too small a variance is a false alarm.
    return max(floor**2, median(ratios) / CHI2_1_MEDIAN * upper_bound_factor(len(ratios)))


def upper_bound_factor(n: int) -> float:
    """n / chi-square(n) 20th percentile (Wilson-Hilferty): the 80% upper bound on a variance."""
    quantile = n * (1 - 2 / (9 * n) + Z_20 * math.sqrt(2 / (9 * n))) ** 3
    return n / quantile


def residual_correlation(
    views: Sequence[Sequence[float]],
    signals: tuple[list[list[int]], list[list[int]]],
    bases: tuple[Baseline, Baseline],
    noises: tuple[float, float],
    span: range,
) -> float:
    """How far two signals' deviations go together, creator by creator and block by block, on
    the baseline: the correlation of their standardised residuals at its 80% upper confidence
    bound (Fisher's z), in [0, 1]. Without enough creator-blocks to tell, 1: no extra evidence."""
    products = first_squares = second_squares = 0.0
    pairs = 0
    (first_counts, second_counts), (first_noise, second_noise) = signals, noises
    for i, v in enumerate(views):
        first_rate, second_rate = bases[0].rates[i], bases[1].rates[i]
        if first_rate <= 0 or second_rate <= 0:
            continue
        for b in span:
            if v[b] <= 0:
                continue
            x, y = first_rate * v[b], second_rate * v[b]
            first = (first_counts[i][b] - x) / math.sqrt(x + first_noise * x * x)
            second = (second_counts[i][b] - y) / math.sqrt(y + second_noise * y * y)
            products += first * second
            first_squares += first * first
            second_squares += second * second
            pairs += 1
    if pairs < 10 or first_squares <= 0 or second_squares <= 0:
        return 1.0
    estimate = max(-0.999, min(0.999, products / math.sqrt(first_squares * second_squares)))
    upper = math.tanh(math.atanh(estimate) - Z_20 / math.sqrt(pairs - 3))
    return max(0.0, upper)


def rate_error(
    views: Sequence[Sequence[float]], base: Baseline, span: range, noise: float
) -> list[float]:
    """Relative variance of each creator's baseline rate, for noise that does not persist: its
    counting noise and block noise over the baseline, and the prior's share (with creators'
    conversion rates' wide spread) for a creator with little data."""
    result = []
    for rate, weight, v in zip(base.rates, base.prior_weights, views, strict=True):
        own = [rate * v[b] for b in span]
        total = sum(own)
        error = (total + noise * sum(x * x for x in own)) / total**2 if total > 0 else 0.0
        result.append((1 - weight) ** 2 * error + RATE_SPREAD**2 * weight)
    return result


def persistent_noise(
    views: Sequence[Sequence[float]], base: Baseline, span: range, noise: float
) -> list[float]:
    """Relative variance of each creator's deviation that every block of a test segment shares.

    The block noise ``c^2``, taken to persist through the segment (a post's quality does; it is
    the cautious reading, and it counts the noise once rather than once per block), plus the
    error of the creator's baseline rate itself: counting noise and that noise over its baseline
    days (about one post each), and the prior's share for a creator with little data.
    """
    result = []
    for rate, weight, v in zip(base.rates, base.prior_weights, views, strict=True):
        own = [rate * v[b] for b in span]
        total = sum(own)
        if rate <= 0 or total <= 0:
            result.append(noise + RATE_SPREAD**2 * weight)
            continue
        days = [sum(own[d : d + POST_BLOCKS]) for d in range(0, len(own), POST_BLOCKS)]
        error = (total + noise * sum(x * x for x in days)) / (total * total)
        result.append(noise + (1 - weight) ** 2 * error + RATE_SPREAD**2 * weight)
    return result
