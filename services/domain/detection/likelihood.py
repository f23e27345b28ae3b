"""The generalised likelihood ratio (GLR) tests: a drop that started in the test window (a step
or a ramp), and a whole-window trend.

Creators enter as independent pieces of evidence, each weighed by its information (inverse
variance); each creator's residual in a block is bounded (Huber-type) so that one post's outlier
moves the statistic by a bounded amount. The statistic is ``Z^2 / 2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from services.domain.detection.baselines import (
    baseline_rates,
    expected_counts,
    observed_count,
    persistent_noise,
    rate_error,
    relative_noise,
    residual_correlation,
    shortfall_by_creator,
)
from services.domain.detection.settings import (
    CONVERSION_NOISE_FLOOR,
    MAX_RESIDUAL,
    PRIOR_COUNT,
    RELATIVE_NOISE_FLOOR,
)


@dataclass(frozen=True, slots=True)
class DropTest:
    """A test's result: its statistic, and what it saw over the run of blocks it found."""

    statistic: float
    observed: float
    expected: float
    baseline_rate: float
    shortfall_by_creator: list[float]
    blocks: int = 0
    # The drop the winning alternative puts on the newest block (inverse-variance weighted).
    fitted_drop: float = 0.0
    # The same for segments too short to call a campaign decaying (at most "watch").
    early_statistic: float = 0.0
    early_drop: float = 0.0
    # The witness's own observed / expected - 1 over the same run (None without a witness), its
    # pooled baseline rate and its shortfall by creator.
    witness_change: float | None = None
    witness_rate: float = 0.0
    witness_shortfall: list[float] = field(default_factory=list)

    @property
    def relative_change(self) -> float:
        return self.observed / self.expected - 1.0 if self.expected else 0.0


class TrendTest(NamedTuple):
    """The trend test's result, and the day from which its ramp is reported (the days before it
    being the baseline of the reported rates)."""

    test: DropTest
    split: int


def drop_test(
    views: Sequence[Sequence[float]],
    counts: list[list[int]],
    baseline: range,
    test: range,
    band: float,
    min_blocks: int,
    overdispersed: bool = False,
    witness: list[list[int]] | None = None,
    post_blocks: int | None = None,
) -> DropTest:
    """Generalised likelihood ratio for a drop that starts in the test window and lasts until now.

    Two shapes of the alternative, each with its size estimated: a *step* (every creator's rate
    fell by ``delta`` at block ``k``) and a *ramp* (it has fallen by ``lambda`` more every block
    since ``k``: fatigue, CAC creep). For a shape with weights ``w_b`` each creator gives a
    matched filter ``T_i = sum_b w_b (o_ib - e_ib)`` with variance
    ``V_i = sum_b w_b^2 e_ib + p_i (sum_b w_b e_ib)^2`` (counting noise, plus the creator's
    deviation that persists through the segment) and mean ``-delta G_i`` under the drop, with
    ``G_i = sum_b w_b^2 e_ib``. Creators are independent, so the optimal combination weighs each
    by ``G_i / V_i``: ``Z = -sum_i (G_i / V_i) T_i / sqrt(sum_i G_i^2 / V_i)``, and the GLR is
    ``Z^2 / 2``. One big creator's post being worse than usual is then one noisy creator, not
    the whole campaign, while twenty small creators falling together are strong evidence. The
    statistic is the largest over both shapes and every start ``k`` in the window.

    A ``witness`` is a second count against the same views (link clicks beside engagements) that
    the same decline moves by the same relative amount. Each creator's witness is one more piece
    of evidence, with its own baseline rate and noise, but not an independent one where a post
    that is worse is worse on both: with ``rho`` the correlation of the two signals' residuals
    on the baseline blocks (at its 80% upper bound), a creator's pair adds
    ``2 rho G_e G_w / sqrt(V_e V_w)`` to the variance of the combined score.

    With ``post_blocks`` the block noise ``c^2`` persists only through a post's day (runs of
    that many blocks) and is independent from one to the next, instead of persisting through the
    whole segment: ``c^2 (sum_b w_b e_ib)^2`` becomes ``c^2 sum_D (sum_{b in D} w_b e_ib)^2``
    over the days ``D``; the baseline rate's error still persists through the segment. That is
    the reading for one creator on its own (a creator's own status), whose successive posts are
    its only evidence: whole-segment persistence would cap its score at ``delta / c``, so that
    even a creator's halving could never be significant.
    """
    # Conversions per view differ several-fold between creators (click-through, and the orders
    # per click of each audience): the campaign's rate is no prior for a creator's, whose own
    # baseline, however small, is used with its own counting error.
    base = baseline_rates(views, counts, baseline, 0.0 if overdispersed else PRIOR_COUNT)
    noise = relative_noise(
        views,
        counts,
        base,
        baseline,
        CONVERSION_NOISE_FLOOR if overdispersed else RELATIVE_NOISE_FLOOR,
    )
    if overdispersed:
        # Noise that is independent from block to block (conversions against the views that a
        # later snapshot reports): counting noise plus ``c^2`` of the square of the expected
        # count in every block; only the baseline rate's own error persists through a segment.
        fresh, persistent = noise, rate_error(views, base, baseline, noise)
    else:
        fresh, persistent = 0.0, persistent_noise(views, base, baseline, noise)
    size = len(views)
    rows_views, rows_counts, rates = views, counts, base.rates
    correlation = 0.0
    if witness is not None:
        seen_by = baseline_rates(views, witness, baseline)
        witness_noise = relative_noise(views, witness, seen_by, baseline)
        rows_views = [*views, *views]
        rows_counts = [*counts, *witness]
        rates = [*base.rates, *seen_by.rates]
        persistent = [*persistent, *persistent_noise(views, seen_by, baseline, witness_noise)]
        correlation = residual_correlation(
            views, (counts, witness), (base, seen_by), (noise, witness_noise), baseline
        )
    # The block noise of each row that persists through a post's day only (0 without
    # ``post_blocks``), and the rest, which persists through the segment.
    daily = [0.0] * len(rows_views)
    if post_blocks is not None and not overdispersed:
        daily = [noise] * size + ([witness_noise] * size if witness is not None else [])
    segment = [p - d for p, d in zip(persistent, daily, strict=True)]
    creators = [i for i, rate in enumerate(rates) if rate > 0]
    # Per creator, running sums from the newest block back to the start k of the exposure
    # (expected counts) and of the bounded residuals, plain and weighted by t = b + 1 and t^2, so
    # that the ramp's weight t - k needs no second pass.
    s0 = dict.fromkeys(creators, 0.0)
    s1 = dict.fromkeys(creators, 0.0)
    s2 = dict.fromkeys(creators, 0.0)
    d0 = dict.fromkeys(creators, 0.0)
    d1 = dict.fromkeys(creators, 0.0)
    # Sums of squared expected counts, for the block-to-block noise ``fresh``.
    q0 = dict.fromkeys(creators, 0.0)
    q1 = dict.fromkeys(creators, 0.0)
    q2 = dict.fromkeys(creators, 0.0)
    # Per creator, the exposure of the current (partial) post-day, plain and weighted by t, and
    # over the newer, complete days the sums of their squares and product, for the ramp's
    # ``sum_D (sum_{b in D} (t - k) e_b)^2`` at any k.
    day_t = dict.fromkeys(creators, 0.0)
    day_1 = dict.fromkeys(creators, 0.0)
    days_tt = dict.fromkeys(creators, 0.0)
    days_t1 = dict.fromkeys(creators, 0.0)
    days_11 = dict.fromkeys(creators, 0.0)
    day_of = (lambda b: b // post_blocks) if post_blocks else (lambda b: 0)
    current_day = day_of(test.stop - 1)
    best_z = best_drop = early_z = early_drop = 0.0
    best_start = test.stop
    seen = 0
    for b in reversed(test):
        t = b + 1.0
        active = False
        if day_of(b) != current_day:
            current_day = day_of(b)
            for i in creators:
                days_tt[i] += day_t[i] * day_t[i]
                days_t1[i] += day_t[i] * day_1[i]
                days_11[i] += day_1[i] * day_1[i]
                day_t[i] = day_1[i] = 0.0
        for i in creators:
            x = rates[i] * rows_views[i][b]
            if x <= 0:
                continue
            active = True
            # Huber-type bound on each creator's residual: one post's outlier (a purge of fake
            # likes, a viral hit) moves the statistic by a bounded amount. The bound is widened
            # by ``band`` of the expected count so that a drop of that size is never clipped.
            limit = MAX_RESIDUAL * math.sqrt(x + (fresh + persistent[i]) * x * x) + band * x
            d = max(-limit, min(limit, rows_counts[i][b] - x))
            s0[i] += x
            s1[i] += t * x
            s2[i] += t * t * x
            d0[i] += d
            d1[i] += t * d
            q0[i] += x * x
            q1[i] += t * x * x
            q2[i] += t * t * x * x
            day_t[i] += t * x
            day_1[i] += x
        if not active:
            continue
        seen += 1
        k = float(b)
        for ramp in (False, True):
            score = information = 0.0
            # Per row, G_i / sqrt(V_i), for the covariance of a creator's two signals; kept only
            # while they are correlated (without a witness the term is zero anyway).
            standardised: dict[int, float] = {}
            for i in creators:
                if s0[i] <= 0:
                    continue
                if ramp:
                    filtered = d1[i] - k * d0[i]
                    gain = s2[i] - 2 * k * s1[i] + k * k * s0[i]
                    exposure = s1[i] - k * s0[i]
                    squared = q2[i] - 2 * k * q1[i] + k * k * q0[i]
                    by_day = (
                        days_tt[i]
                        + day_t[i] ** 2
                        - 2 * k * (days_t1[i] + day_t[i] * day_1[i])
                        + k * k * (days_11[i] + day_1[i] ** 2)
                    )
                else:
                    filtered, gain, exposure, squared = d0[i], s0[i], s0[i], q0[i]
                    by_day = days_11[i] + day_1[i] ** 2
                variance = (
                    gain + fresh * squared + segment[i] * exposure * exposure + daily[i] * by_day
                )
                score -= gain / variance * filtered
                information += gain * gain / variance
                if correlation > 0:
                    standardised[i] = gain / math.sqrt(variance)
            if information <= 0:
                continue
            shared = sum(
                g * standardised.get(i + size, 0.0) for i, g in standardised.items() if i < size
            )
            z = score / math.sqrt(information + 2 * correlation * shared)
            # The fitted drop at the newest block: delta, or lambda times the ramp's length.
            drop = score / information * ((test.stop - k) if ramp else 1.0)
            if seen < min_blocks:
                if z > early_z:
                    early_z, early_drop = z, drop
            elif z > best_z:
                best_z, best_drop, best_start = z, drop, b
    run = range(best_start, test.stop) if best_z > 0 else test
    evidence = sum(1 for b in run if any(rates[i] * rows_views[i][b] > 0 for i in creators))
    shortfall = shortfall_by_creator(views, counts, base, run)
    expected = sum(sum(expected_counts(views, base, b)) for b in run)
    observed = sum(observed_count(counts, base, b) for b in run)
    witness_change, witness_rate, witness_shortfall = None, 0.0, []
    if witness is not None:
        witness_expected = sum(sum(expected_counts(views, seen_by, b)) for b in run)
        if witness_expected > 0:
            witness_observed = sum(observed_count(witness, seen_by, b) for b in run)
            witness_change = witness_observed / witness_expected - 1.0
        witness_rate = seen_by.pooled
        witness_shortfall = shortfall_by_creator(views, witness, seen_by, run)
    return DropTest(
        statistic=best_z * best_z / 2,
        observed=observed,
        expected=expected,
        baseline_rate=base.pooled,
        shortfall_by_creator=shortfall,
        blocks=evidence,
        fitted_drop=best_drop,
        early_statistic=early_z * early_z / 2,
        early_drop=early_drop,
        witness_change=witness_change,
        witness_rate=witness_rate,
        witness_shortfall=witness_shortfall,
    )


def trend_test(
    views: Sequence[Sequence[float]], counts: list[list[int]], min_base: int, band: float
) -> TrendTest:
    """GLR for a ramp that starts at day ``k`` (any day, the window's first included) and deepens
    until now, each creator's level fitted over the whole window rather than taken from the
    days before ``k``.

    Under H0 creator ``i`` converts ``r_i v_id``, ``r_i`` its rate over every day; the ramp
    makes it ``r_i (1 - lambda w_d) v_id`` with ``w_d = d - k + 1`` from ``k`` on. With the level
    profiled out the matched filter is ``T_i = sum_d (w_d - m_i)(o_id - e_id)`` (``m_i`` the
    exposure-weighted mean of ``w``), its gain ``G_i = sum_d (w_d - m_i)^2 e_id`` and variance
    ``V_i = sum_d (w_d - m_i)^2 (e_id + c^2 e_id^2)`` (noise fresh every day); creators combine
    as in ``drop_test``. A decline that has run for most of the window has no clean baseline
    left, but the whole window's slope still shows it; ``k = 0`` is a plain trend test.
    """
    days = len(views[0]) if views else 0
    # The noise as the change-point test has it, on the two days of minimum baseline (so, in
    # practice, its 20% floor).
    base = baseline_rates(views, counts, range(0, min_base), 0.0)
    noise = relative_noise(views, counts, base, range(0, min_base), CONVERSION_NOISE_FLOOR)
    rates = []
    for v, c in zip(views, counts, strict=True):
        total_views, total_counts = sum(v), sum(c)
        # A creator without conversions in the first days has no level to decline from.
        own_base = sum(c[:min_base])
        rates.append(total_counts / total_views if total_views > 0 and own_base > 0 else 0.0)
    # Each creator's expected counts under H0, the same for every start k.
    fitted = [
        ([rate * x for x in v], c)
        for rate, v, c in zip(rates, views, counts, strict=True)
        if rate > 0
    ]
    best_z = best_drop = 0.0
    best_start = 0
    for k in range(0, days - 1):
        score = information = 0.0
        weights = [max(0.0, d - k + 1.0) for d in range(days)]
        for expected, c in fitted:
            exposure = sum(expected)
            mean = sum(w * e for w, e in zip(weights, expected, strict=True)) / exposure
            filtered = gain = variance = 0.0
            for w, e, o in zip(weights, expected, c, strict=True):
                if e <= 0:
                    continue
                centred = w - mean
                limit = MAX_RESIDUAL * math.sqrt(e + noise * e * e) + band * e * max(1.0, w)
                filtered += centred * max(-limit, min(limit, o - e))
                gain += centred * centred * e
                variance += centred * centred * (e + noise * e * e)
            if variance <= 0:
                continue
            score -= gain / variance * filtered
            information += gain * gain / variance
        if information <= 0:
            continue
        z = score / math.sqrt(information)
        if z > best_z:
            best_z, best_start = z, k
            best_drop = score / information * (days - k)
    split = max(best_start, min_base)
    reported = baseline_rates(views, counts, range(0, split), 0.0)
    run = range(split, days)
    found = DropTest(
        statistic=best_z * best_z / 2,
        observed=sum(observed_count(counts, reported, b) for b in run),
        expected=sum(sum(expected_counts(views, reported, b)) for b in run),
        baseline_rate=reported.pooled,
        shortfall_by_creator=shortfall_by_creator(views, counts, reported, run),
        blocks=sum(1 for b in range(best_start, days) if any(v[b] > 0 for v in views)),
        fitted_drop=best_drop,
    )
    return TrendTest(found, split)
