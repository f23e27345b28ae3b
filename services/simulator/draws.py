"""Seeded random draws and time rounding shared by the simulation's plans and posts."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def lognormal(rng: random.Random, sigma: float) -> float:
    """A multiplicative noise factor with median 1."""
    return rng.lognormvariate(0.0, sigma)


def money(amount: float) -> float:
    return round(max(amount, 0.01), 2)


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold = math.exp(-mean)
    count, product = 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def pick(rng: random.Random, options: dict[T, float]) -> T:
    return rng.choices(list(options), weights=list(options.values()))[0]
