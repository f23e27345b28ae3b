"""Budget moves: a greedy search over small steps of spend, each taken only when the posterior
probability that it gains exceeds the threshold, within each creator's weekly bounds.

With a fixed budget a step moves spend from one creator to another; with a target CAC a step may
also release spend (where an extra customer costs more than the target) or add it (where it costs
less). Every response curve is concave, so steps toward the best expected value reach the best
plan within the bounds. The steps are then summed per pair of creators into moves, and each move
is checked again as a whole against the final plan: a move that does not clear the threshold on
its own is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from services.domain.allocation.fitting import fit_rates
from services.domain.allocation.recommendation import (
    CreatorAllocation,
    Interval,
    Move,
    Recommendation,
)
from services.domain.allocation.response import Array, ResponseDraws
from services.domain.allocation.settings import AllocationSettings

# (from index, to index); None is the budget itself (released or added under a target CAC).
Pair = tuple[int | None, int | None]
# A bound on the search: steps of 1% of the budget within +-30% bounds need far fewer.
MAX_STEPS = 1000
_TINY = 1e-9


@dataclass(frozen=True)
class CreatorInput:
    """One creator's last seven days, and why it may not receive budget (None: it may).
    ``posts`` is how many posts the week's spend paid for, when known: the fewer, the more the
    week's new customers are luck of reach."""

    creator_id: str
    tier: str
    platform: str | None
    status: str
    spend: float
    new_customers: int
    excluded: str | None = None
    posts: float | None = None


@dataclass
class _Search:
    draws: ResponseDraws
    spend: Array
    lower: Array
    upper: Array
    target_cac: float | None
    settings: AllocationSettings
    best_probability: float = 0.0

    def step(self, size: float) -> tuple[Pair, float] | None:
        """The best step that clears the threshold, by expected value per unit moved.

        Each creator's loss per unit for giving up to ``size`` and gain per unit for taking up
        to ``size`` are computed once per draw, and a pair is valued by their difference: exact
        when both move the same amount, and each move is judged again exactly at the end."""
        s = self.spend
        down = np.minimum(size, s - self.lower)
        up = np.minimum(size, self.upper - s)
        gives, takes = down > _TINY, up > _TINY
        now = self.draws.customers(s)
        loss = (now - self.draws.customers(s - down)) / np.where(gives, down, 1.0)[:, None]
        gain = (self.draws.customers(s + up) - now) / np.where(takes, up, 1.0)[:, None]
        options: list[tuple[float, Pair, float]] = []
        loss_mean, gain_mean = loss.mean(axis=1), gain.mean(axis=1)
        for i in np.nonzero(gives)[0]:
            for j in np.nonzero(takes)[0]:
                if i != j:
                    moved = min(down[i], up[j])
                    options.append((gain_mean[j] - loss_mean[i], (int(i), int(j)), moved))
        # With a target CAC, spend itself is worth one customer per target CAC.
        price = 0.0 if self.target_cac is None else 1.0 / self.target_cac
        if self.target_cac is not None:
            options += [
                (price - loss_mean[i], (int(i), None), down[i]) for i in np.nonzero(gives)[0]
            ]
            options += [(gain_mean[j] - price, (None, int(j)), up[j]) for j in np.nonzero(takes)[0]]
        for mean, pair, amount in sorted(options, key=lambda o: -o[0]):
            if mean <= 0:
                break
            source, target = pair
            taken = gain[target] if target is not None else np.full(gain.shape[1], price)
            given = loss[source] if source is not None else np.full(loss.shape[1], price)
            probability = float((taken > given).mean())
            self.best_probability = max(self.best_probability, probability)
            if probability > self.settings.probability_threshold:
                return pair, float(amount)
        return None

    def apply(self, pair: Pair, amount: float, sign: float = 1.0) -> None:
        source, target = pair
        if source is not None:
            self.spend[source] -= sign * amount
        if target is not None:
            self.spend[target] += sign * amount

    def judge(self, pair: Pair, amount: float) -> tuple[Array, Array]:
        return judge_move(self.draws, self.spend, pair, amount, self.target_cac)


def judge_move(
    draws: ResponseDraws, plan: Array, pair: Pair, amount: float, target_cac: float | None
) -> tuple[Array, Array]:
    """A move as a whole against the plan that includes it: the change in next week's new
    customers it brings, and its value (the same, less its spend at the target CAC), per draw."""
    without = plan.copy()
    source, target = pair
    if source is not None:
        without[source] += amount
    if target is not None:
        without[target] -= amount
    change: Array = (draws.customers(plan) - draws.customers(without)).sum(axis=0)
    spent = (target is not None) * amount - (source is not None) * amount
    value = change - spent / target_cac if target_cac is not None else change
    return change, value


def _interval(values: Array, settings: AllocationSettings) -> Interval:
    low, mid, high = np.quantile(values, [settings.low_quantile, 0.5, settings.high_quantile])
    return Interval(low=round(float(low), 4), mid=round(float(mid), 4), high=round(float(high), 4))


def _too_little(creators: list[CreatorInput], settings: AllocationSettings) -> str | None:
    spending = [c for c in creators if c.spend > 0]
    customers = sum(c.new_customers for c in spending)
    if len(spending) < settings.min_creators:
        return (
            f"too little data: {len(spending)} creator(s) with spend in the last seven days, "
            f"at least {settings.min_creators} needed"
        )
    if customers < settings.min_new_customers:
        return (
            f"too little data: {customers} new customers in the last seven days, at least "
            f"{settings.min_new_customers} needed"
        )
    if all(c.excluded is not None for c in spending):
        return "no creator may receive budget: every creator with spend is decaying or flagged"
    return None


def _search_moves(search: _Search, budget: float) -> dict[Pair, float]:
    settings = search.settings
    steps: dict[Pair, float] = {}
    for _ in range(MAX_STEPS):
        found = search.step(settings.step_share * budget)
        if found is None:
            break
        pair, amount = found
        search.apply(pair, amount)
        steps[pair] = steps.get(pair, 0.0) + amount
    # Opposite steps between the same two creators cancel.
    for (source, target), amount in list(steps.items()):
        back = steps.get((target, source), 0.0)
        if source is not None and target is not None and amount >= back > 0:
            steps[(source, target)] = amount - back
            del steps[(target, source)]
    kept = {}
    for pair, amount in steps.items():
        _, value = search.judge(pair, amount)
        if amount >= settings.min_move_share * budget and (value > 0).mean() > (
            settings.probability_threshold
        ):
            kept[pair] = amount
        else:
            search.apply(pair, amount, -1.0)
    return kept


def allocate(
    draws: ResponseDraws,
    spend: Array,
    receives: Array,
    target_cac: float | None,
    settings: AllocationSettings,
) -> tuple[Array, dict[Pair, float], float]:
    """The proposed spend per creator, the moves (amount per pair of creator indices) and the
    highest probability of gain any step had, for curves ``draws`` at current ``spend``;
    creators where ``receives`` is false may lose spend but not gain it."""
    change = settings.max_weekly_change
    search = _Search(
        draws=draws,
        spend=spend.copy(),
        lower=spend * (1.0 - change),
        upper=np.where(receives, spend * (1.0 + change), spend),
        target_cac=target_cac,
        settings=settings,
    )
    kept = _search_moves(search, float(spend.sum()))
    return search.spend, kept, search.best_probability


def recommend(
    campaign_id: str,
    currency: str | None,
    as_of: datetime | None,
    creators: list[CreatorInput],
    target_cac: float | None = None,
    settings: AllocationSettings | None = None,
) -> Recommendation:
    """The recommendation for a campaign's next seven days from each creator's last seven."""
    settings = settings or AllocationSettings()
    fitted = [c for c in creators if c.spend > 0]
    budget = float(sum(c.spend for c in fitted))
    reason = _too_little(creators, settings)
    marginal: dict[str, Interval] = {}
    proposed = {c.creator_id: c.spend for c in creators}
    moves: list[Move] = []
    if len(fitted) >= settings.min_creators:
        spend = np.array([c.spend for c in fitted], dtype=float)
        customers = np.array([c.new_customers for c in fitted], dtype=float)
        posts = np.array([c.posts or settings.typical_posts for c in fitted], dtype=float)
        fit = fit_rates(spend, customers, [c.tier for c in fitted], settings, posts)
        draws = ResponseDraws.through(fit.rates, fit.headrooms, spend)
        cac = 1.0 / draws.marginal(spend)
        marginal = {c.creator_id: _interval(cac[i], settings) for i, c in enumerate(fitted)}
        if reason is None:
            receives = np.array([c.excluded is None for c in fitted])
            planned, kept, best = allocate(draws, spend, receives, target_cac, settings)
            for pair, amount in kept.items():
                change, value = judge_move(draws, planned, pair, amount, target_cac)
                moves.append(
                    _move(fitted, marginal, pair, amount, currency, change, value, settings)
                )
            proposed.update({c.creator_id: float(planned[i]) for i, c in enumerate(fitted)})
            if not moves:
                reason = (
                    "no creator is reliably better than another: the most likely move gains "
                    f"with probability {best:.2f}, not above "
                    f"{settings.probability_threshold:.2f}"
                )
    return Recommendation(
        campaign_id=campaign_id,
        currency=currency,
        as_of=as_of,
        mode="fixed_budget" if target_cac is None else "target_cac",
        target_cac=target_cac,
        budget=round(budget, 2),
        proposed_budget=round(sum(proposed.values()), 2),
        probability_threshold=settings.probability_threshold,
        max_weekly_change=settings.max_weekly_change,
        creators=[
            CreatorAllocation(
                creator_id=c.creator_id,
                tier=c.tier,
                platform=c.platform,
                status=c.status,
                current_spend=round(c.spend, 2),
                new_customers=c.new_customers,
                proposed_spend=round(proposed[c.creator_id], 2),
                marginal_cac=marginal.get(c.creator_id),
                receives_budget=c.excluded is None,
                note=c.excluded if c.spend > 0 else "no spend in the last seven days",
            )
            for c in creators
        ],
        moves=sorted(moves, key=lambda m: -m.amount),
        reason=None if moves else reason,
    )


def _move(
    creators: list[CreatorInput],
    marginal: dict[str, Interval],
    pair: Pair,
    amount: float,
    currency: str | None,
    change: Array,
    value: Array,
    settings: AllocationSettings,
) -> Move:
    source = creators[pair[0]].creator_id if pair[0] is not None else None
    target = creators[pair[1]].creator_id if pair[1] is not None else None
    unit = f" {currency}" if currency else ""

    def cac(creator_id: str) -> str:
        return f"{marginal[creator_id].mid:.2f}{unit}"

    if source is not None and target is not None:
        why = (
            f"an extra new customer costs {cac(target)} from {target} against {cac(source)} "
            f"from {source} at current spend"
        )
    elif source is not None:
        why = f"an extra new customer from {source} costs {cac(source)}, above the target CAC"
    else:
        assert target is not None
        why = f"an extra new customer from {target} costs {cac(target)}, below the target CAC"
    return Move(
        from_creator_id=source,
        to_creator_id=target,
        amount=round(amount, 2),
        currency=currency,
        expected_new_customers=_interval(change, settings),
        probability=round(float((value > 0).mean()), 4),
        reason=why,
    )
