"""The gamma distribution's quantile function, for intervals on a count over an exposure.

A Poisson count ``n`` over an exposure ``e`` with a Gamma(shape a, rate b) prior on its rate has a
Gamma(a + n, b + e) posterior; its quantiles are the interval. The regularised lower incomplete
gamma function is computed by its series for x < a + 1 and by its continued fraction (modified
Lentz) otherwise, as in Numerical Recipes §6.2; the quantile is found by Newton's method on it,
safeguarded by bisection. Pure Python, so the domain needs no numerical library.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPSILON = 1e-14
_MAX_TERMS = 1_000
_TINY = 1e-300
_TOLERANCE = 1e-12
_MAX_STEPS = 200


def _series(shape: float, x: float) -> float:
    term = total = 1.0 / shape
    denominator = shape
    for _ in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return total * math.exp(-x + shape * math.log(x) - math.lgamma(shape))


def _continued_fraction(shape: float, x: float) -> float:
    """The upper regularised function Q(shape, x)."""
    b = x + 1.0 - shape
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - shape)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return math.exp(-x + shape * math.log(x) - math.lgamma(shape)) * h


def regularized_lower_gamma(shape: float, x: float) -> float:
    """P(shape, x): the probability that a Gamma(shape, rate 1) variable is at most ``x``."""
    if shape <= 0:
        raise ValueError("shape must be positive")
    if x <= 0:
        return 0.0
    if x < shape + 1.0:
        return _series(shape, x)
    return 1.0 - _continued_fraction(shape, x)


def _density(shape: float, x: float) -> float:
    return math.exp((shape - 1.0) * math.log(x) - x - math.lgamma(shape))


def _first_guess(probability: float, shape: float) -> float:
    """Wilson and Hilferty's cube-root normal approximation, or for a small shape, where it can
    go below zero, the lower tail's leading term P(a, x) ~ x^a / Gamma(a + 1)."""
    z = NormalDist().inv_cdf(probability)
    cube = 1.0 - 1.0 / (9.0 * shape) + z * math.sqrt(1.0 / (9.0 * shape))
    if cube > 0 and shape >= 1.0:
        return shape * cube**3
    return math.exp((math.log(probability) + math.lgamma(shape + 1.0)) / shape)


def gamma_quantile(probability: float, shape: float, rate: float) -> float:
    """The ``probability`` quantile of Gamma(shape, rate) (mean shape / rate): Newton's method
    from an approximation, kept inside a bracket that bisection narrows whenever a Newton step
    would leave it, so it converges whatever the shape (in a handful of steps as a rule)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must lie strictly between 0 and 1")
    if rate <= 0:
        raise ValueError("rate must be positive")
    low, high = 0.0, math.inf
    x = max(_first_guess(probability, shape), _TINY)
    for _ in range(_MAX_STEPS):
        error = regularized_lower_gamma(shape, x) - probability
        if error < 0:
            low = x
        else:
            high = x
        density = _density(shape, x)
        step = error / density if density > 0 else math.inf
        following = x - step
        if not low < following < high:
            following = (low + high) / 2.0 if math.isfinite(high) else max(2.0 * x, low * 2.0)
        if abs(following - x) <= _TOLERANCE * x:
            return following / rate
        x = following
    return x / rate
