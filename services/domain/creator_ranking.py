"""Creators ranked by what they return per unit of spend, never by followers.

New customers over spend are a Poisson count over an exposure (spend / 1,000). Each creator's rate
gets a Gamma prior fitted to every creator in the same currency (empirical Bayes, Marshall's 1991
moment estimator), so the posterior Gamma(shape + customers, rate + exposure) shrinks a small
sample toward the pool; creators are ranked by the lower end of its 90% interval, so one lucky
customer on a tiny spend ranks below a creator who delivers steadily. Why this and not a plain
Jeffreys interval: docs/creator-value.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from services.domain.creator_value import PER, CreatorCampaign, Tally
from services.domain.gamma import gamma_quantile
from services.domain.tiers import tier_of

LEVEL = 0.90
"""The interval's probability; creators are ranked by its lower end."""

_LOW, _HIGH = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
# A prior of half a customer when a currency has none at all keeps the Gamma proper; the pooled
# rate is then near zero and no creator is told apart by customers.
_HALF_CUSTOMER = 0.5


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RateEstimate(_Model):
    """New customers per 1,000 spent: as observed, shrunk (posterior mean) and its interval."""

    observed: float | None = Field(description="new customers / spend * 1000; null without spend")
    estimate: float = Field(description="posterior mean, shrunk toward the currency's pool")
    low: float = Field(description=f"lower end of the {LEVEL:.0%} posterior interval; ranks")
    high: float = Field(description=f"upper end of the {LEVEL:.0%} posterior interval")


class RankedCreator(_Model):
    """A creator's campaigns in one currency (a creator paid in two currencies has two rows)."""

    rank: int
    creator_id: str
    currency: str | None
    campaigns: list[str]
    platforms: list[str]
    tiers: list[str]
    posts: int
    spend: float
    engagements: int
    new_customers: int
    new_customers_per_1000: RateEstimate
    engagements_per_1000: float | None = Field(description="engagements / spend * 1000")


class GammaPrior(_Model):
    """The prior on new customers per 1,000 spent in one currency."""

    currency: str | None
    shape: float
    rate: float = Field(description="in thousands of spend: how much spend the prior weighs")
    mean_per_1000: float
    creators: int = Field(description="creators with spend it was fitted on")


@dataclass(frozen=True)
class RankingFilter:
    tier: str | None = None
    platform: str | None = None
    campaign_id: str | None = None

    def keeps(self, row: CreatorCampaign, tier_bounds: Sequence[tuple[str, int]]) -> bool:
        view = row.view
        return (
            (self.tier is None or tier_of(view.followers, tier_bounds) == self.tier)
            and (self.platform is None or view.platform == self.platform)
            and (self.campaign_id is None or view.campaign_id == self.campaign_id)
        )


@dataclass
class _Pooled:
    """One creator's campaigns in one currency."""

    creator_id: str
    currency: str | None
    rows: list[CreatorCampaign] = field(default_factory=list)

    @property
    def tally(self) -> Tally:
        return Tally.of(row.view for row in self.rows)


def _pool(rows: Iterable[CreatorCampaign]) -> list[_Pooled]:
    pooled: dict[tuple[str, str | None], _Pooled] = {}
    for row in rows:
        key = (row.view.creator_id, row.currency)
        pooled.setdefault(key, _Pooled(*key)).rows.append(row)
    return list(pooled.values())


def fit_prior(currency: str | None, counts: Sequence[tuple[int, float]]) -> GammaPrior:
    """A Gamma prior on a Poisson rate from (count, exposure) pairs, by Marshall's moments.

    The pooled rate m = sum(counts) / sum(exposures) is its mean. The spread of the true rates is
    what the observed rates scatter beyond Poisson noise: tau^2 = s^2 - m / mean exposure, with
    s^2 the exposure-weighted variance of the observed rates. The prior's rate (the exposure it
    weighs as) is m / tau^2, capped at the median exposure, so that a typical creator's own data
    always weighs at least as much as the pool; tau^2 <= 0 (no spread beyond noise) takes the cap.
    """
    exposed = [(n, e) for n, e in counts if e > 0]
    if not exposed:
        return GammaPrior(
            currency=currency, shape=_HALF_CUSTOMER, rate=1.0, mean_per_1000=0.5, creators=0
        )
    total_exposure = sum(e for _, e in exposed)
    pooled = (sum(n for n, _ in exposed) or _HALF_CUSTOMER) / total_exposure
    spread = sum(e * (n / e - pooled) ** 2 for n, e in exposed) / total_exposure
    between = spread - pooled / (total_exposure / len(exposed))
    cap = statistics.median(e for _, e in exposed)
    weight = min(pooled / between, cap) if between > 0 else cap
    return GammaPrior(
        currency=currency,
        shape=pooled * weight,
        rate=weight,
        mean_per_1000=pooled,
        creators=len(exposed),
    )


def estimate(count: int, spend: float, prior: GammaPrior) -> RateEstimate:
    exposure = spend / PER
    shape, rate = prior.shape + count, prior.rate + exposure
    return RateEstimate(
        observed=count / exposure if exposure > 0 else None,
        estimate=shape / rate,
        low=gamma_quantile(_LOW, shape, rate),
        high=gamma_quantile(_HIGH, shape, rate),
    )


def _unranked(
    pooled: _Pooled, prior: GammaPrior, tier_bounds: Sequence[tuple[str, int]]
) -> RankedCreator:
    tally = pooled.tally
    order = [name for name, _ in tier_bounds]
    views = [row.view for row in pooled.rows]
    money = tally.money(pooled.currency)
    return RankedCreator(
        rank=0,
        creator_id=pooled.creator_id,
        currency=pooled.currency,
        campaigns=sorted(v.campaign_id for v in views),
        platforms=sorted({v.platform for v in views if v.platform is not None}),
        tiers=sorted({tier_of(v.followers, tier_bounds) for v in views}, key=order.index),
        posts=tally.posts,
        spend=money.spend,
        engagements=tally.engagements,
        new_customers=tally.new_customers,
        new_customers_per_1000=estimate(tally.new_customers, tally.spend, prior),
        engagements_per_1000=money.engagements_per_1000,
    )


def _order(creator: RankedCreator) -> tuple[float, float, float, str, str]:
    rate = creator.new_customers_per_1000
    return (
        -rate.low,
        -rate.estimate,
        -(creator.engagements_per_1000 or 0.0),
        creator.creator_id,
        creator.currency or "",
    )


def _currency_order(prior: GammaPrior) -> tuple[bool, str]:
    return (prior.currency is None, prior.currency or "")


def rank_creators(
    rows: Sequence[CreatorCampaign],
    selection: RankingFilter,
    tier_bounds: Sequence[tuple[str, int]],
) -> tuple[list[RankedCreator], list[GammaPrior]]:
    """Every creator (per currency) that ``selection`` keeps, best first, and the priors used.

    The priors are fitted on all of ``rows`` whatever the selection, so a creator's estimate is
    the same in every filtered list. Order: the interval's lower end, then the shrunk estimate,
    then engagements per 1,000 spent (which decide only between creators alike in customers).
    """
    everyone = _pool(rows)
    by_currency: dict[str | None, list[tuple[int, float]]] = {}
    for pooled in everyone:
        tally = pooled.tally
        by_currency.setdefault(pooled.currency, []).append((tally.new_customers, tally.spend / PER))
    priors = {currency: fit_prior(currency, counts) for currency, counts in by_currency.items()}
    kept = _pool(row for row in rows if selection.keeps(row, tier_bounds))
    unranked = sorted((_unranked(p, priors[p.currency], tier_bounds) for p in kept), key=_order)
    ranked = [c.model_copy(update={"rank": i + 1}) for i, c in enumerate(unranked)]
    used = sorted((priors[c] for c in {p.currency for p in kept}), key=_currency_order)
    return ranked, used
