"""Decay detection: each campaign against its own, mix-adjusted baseline, with a sequential test.

The unit of observation is a six-hour block of event time (aligned to UTC, the current block
included while it fills). Hourly buckets are too lumpy to test: a post's views and engagements are
reported by snapshots every three to six hours, so most creator-hours are empty and the rest carry
several hours at once. For every block the detector compares what a campaign got with what its
creators' own baselines predict for the views they actually had:

- expected count ``E = sum_i r_i v_i``: creator ``i``'s baseline rate (engagements, or conversions,
  per view) times its views in the block. Adjusting for the creator mix means a campaign does not
  "decay" because a high-engagement creator simply posted less. The rates are shrunk towards the
  campaign's pooled rate (empirical Bayes, a prior worth ``PRIOR_COUNT`` events), and a creator
  enters the test only once its own baseline outweighs that prior, so a creator who joined
  yesterday cannot pass its unknown rate off as a change.
- variance ``V = E + sum_i (c^2 + tau^2 w_i) (r_i v_i)^2``: Poisson counting noise plus a
  multiplicative term per creator (one post is simply better than another; ``c`` is estimated
  robustly on the baseline blocks, floored at ``RELATIVE_NOISE_FLOOR``) plus the remaining
  uncertainty of a shrunk rate (``w_i`` is the prior's weight in it). A block dominated by one
  creator is therefore as uncertain as that creator, and a block of twenty creators is not.
- a one-sided CUSUM (Page 1954) of the Gaussian log-likelihood ratio of "the rate fell to
  ``rho`` x baseline" against "it did not", computed as the largest ratio over the segments that
  end now within the 48-hour test window; that window bounds its memory, so a campaign that
  recovers is healthy again within it. Residuals are winsorised per block (the band is widened by
  the tested shift, so a change of the tested size is never clipped away). By the Wald-Siegmund
  bound the in-control average run length is at least ``exp(h)`` blocks; ``h = 5`` (about 37 days
  of one campaign) was chosen on the evaluation's tuning seeds, where larger values lost most of
  the recall, and its false-alert rate was then checked on held-out seeds. The noise variance is
  taken at its 80% upper confidence bound, since too small a variance means false alarms.
- ``decaying`` needs at least two blocks (twelve hours) of evidence: one bad block, however bad
  (an outage, a platform purging fake likes), is at most ``watch``.
- a statistically significant change also has to be large enough to matter (a minimum relative
  drop, measured over the CUSUM run), so a huge campaign does not alarm on a 2% wobble.

Conversions are tested the same way on data that has settled (promo-code conversions are reported
up to a day late), so a CAC creep is seen a day later than an engagement drop.

It is a pure function of the buckets and the watermark: replaying the same events gives the same
status, live or backfilled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Literal

from services.domain import metrics
from services.domain.money import from_micros
from services.domain.state import CreatorState
from services.domain.views import Contributor, Reason, StatusName
from services.domain.windows import HOUR

Sensitivity = Literal["low", "normal", "high"]
_SENSITIVITY_SCALE: dict[Sensitivity, float] = {"low": 1.5, "normal": 1.0, "high": 0.7}
MAX_RESIDUAL = 3.0
PRIOR_COUNT = 10.0
RELATIVE_NOISE_FLOOR = 0.1
# How far a creator's rate over a test segment may sit from its baseline without any change: one
# post engages better than another by about this much, and a segment is a post or two.
CREATOR_SPREAD = 0.1
# Relative spread of creators' rates around the campaign's pooled rate: the uncertainty of a rate
# that is still mostly prior.
RATE_SPREAD = 0.3
# Median of a chi-square variable with one degree of freedom: turns a median of squared
# standardised residuals into a variance.
CHI2_1_MEDIAN = 0.4549
# The standard normal's 20th percentile.
Z_20 = -0.8416
_SEVERITY: dict[StatusName, int] = {"insufficient_data": 0, "healthy": 1, "watch": 2, "decaying": 3}


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    block_hours: int = 6
    history_blocks: int = 28
    test_blocks: int = 8
    min_baseline_views: int = 20_000
    min_baseline_blocks: int = 6
    engagement_shift: float = 0.85
    conversion_shift: float = 0.7
    threshold: float = 5.0
    watch_threshold: float = 2.5
    min_engagement_drop: float = 0.1
    min_conversion_drop: float = 0.25
    min_expected_events: float = 20.0
    # One block, however bad, is at most "watch": decaying needs the change to persist.
    min_evidence_blocks: int = 2
    min_baseline_conversions: int = 30
    conversion_settle_blocks: int = 4
    cac_rise: float = 0.25
    target_tolerance: float = 0.2
    target_decay: float = 0.5
    min_recent_new_customers: int = 5


@dataclass(frozen=True, slots=True)
class CampaignTargets:
    target_cac: float | None = None
    sensitivity: Sensitivity = "normal"


@dataclass(frozen=True, slots=True)
class Assessment:
    status: StatusName
    reasons: list[Reason] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)


@dataclass(slots=True)
class _Series:
    """Views, engagements, conversions, new customers and spend per creator and block."""

    creator_ids: list[str]
    views: list[list[int]]
    engagements: list[list[int]]
    conversions: list[list[int]]
    new_customers: list[list[int]]
    spend_micros: list[list[int]]


def _series(creators: Sequence[CreatorState], first_block: int, blocks: int, size: int) -> _Series:
    def empty() -> list[list[int]]:
        return [[0] * blocks for _ in creators]

    series = _Series([c.creator_id for c in creators], empty(), empty(), empty(), empty(), empty())
    for index, creator in enumerate(creators):
        views, engagements = series.views[index], series.engagements[index]
        conversions, customers = series.conversions[index], series.new_customers[index]
        spend = series.spend_micros[index]
        for start, bucket in creator.buckets.items():
            slot = start // size - first_block
            if 0 <= slot < blocks:
                c = bucket.counters
                views[slot] += c.views
                engagements[slot] += c.likes + c.comments + c.shares + c.saves
                conversions[slot] += c.conversions
                customers[slot] += c.new_customers
                spend[slot] += c.spend_micros
    return series


@dataclass(frozen=True, slots=True)
class _Test:
    statistic: float
    observed: float
    expected: float
    baseline_rate: float
    shortfall_by_creator: list[float]
    blocks: int = 0

    @property
    def relative_change(self) -> float:
        return self.observed / self.expected - 1.0 if self.expected else 0.0


@dataclass(frozen=True, slots=True)
class _Baseline:
    rates: list[float]
    prior_weights: list[float]
    pooled: float


def _baseline(views: list[list[int]], counts: list[list[int]], span: range) -> _Baseline:
    """Each creator's baseline rate, shrunk towards the campaign's (empirical Bayes).

    A creator with a few thousand views and two lucky conversions would otherwise predict far
    more than it will deliver; the prior weighs as much as ``PRIOR_COUNT`` events at the pooled
    rate. A creator whose own data weighs less than the prior gets no rate (it is left out).
    """
    creator_views = [sum(v[span.start : span.stop]) for v in views]
    creator_counts = [sum(c[span.start : span.stop]) for c in counts]
    pooled_views, pooled_counts = sum(creator_views), sum(creator_counts)
    pooled = pooled_counts / pooled_views if pooled_views > 0 else 0.0
    prior_views = PRIOR_COUNT / pooled if pooled > 0 else 0.0
    rates, weights = [], []
    for own_views, own_counts in zip(creator_views, creator_counts, strict=True):
        if pooled <= 0 or own_views < prior_views:
            rates.append(0.0)
            weights.append(1.0)
            continue
        weight = own_views + prior_views
        rates.append((own_counts + prior_views * pooled) / weight)
        weights.append(prior_views / weight)
    return _Baseline(rates, weights, pooled)


def _expected(views: list[list[int]], base: _Baseline, block: int) -> list[float]:
    return [rate * v[block] for rate, v in zip(base.rates, views, strict=True)]


def _observed(counts: list[list[int]], base: _Baseline, block: int) -> float:
    return float(sum(c[block] for rate, c in zip(base.rates, counts, strict=True) if rate > 0))


def _relative_noise(
    views: list[list[int]], counts: list[list[int]], base: _Baseline, span: range
) -> float:
    """Robust estimate of the multiplicative noise ``c^2`` of a creator's rate, on baseline blocks.

    Under the model ``(O - E)^2 - E`` has mean ``c^2 Q`` with ``Q = sum_i e_i^2``; the median of
    its ratio to ``Q``, divided by the median of a chi-square(1) variable, is insensitive to a few
    outlying blocks.
    """
    ratios = []
    for b in span:
        expected = _expected(views, base, b)
        e = sum(expected)
        q = sum(x * x for x in expected)
        if e > 0 and q > 0:
            ratios.append(((_observed(counts, base, b) - e) ** 2 - e) / q)
    floor = RELATIVE_NOISE_FLOOR**2
    if len(ratios) < 4:
        return floor
    # The upper 80% confidence bound rather than the point estimate: a variance estimated from
    # a few dozen blocks is easily too small, and too small a variance is a false alarm.
    return max(floor, median(ratios) / CHI2_1_MEDIAN * _upper_bound_factor(len(ratios)))


def _upper_bound_factor(n: int) -> float:
    """n / chi-square(n) 20th percentile (Wilson-Hilferty): the 80% upper bound on a variance."""
    quantile = n * (1 - 2 / (9 * n) + Z_20 * math.sqrt(2 / (9 * n))) ** 3
    return n / quantile


def _cusum_drop(
    views: list[list[int]],
    counts: list[list[int]],
    baseline: range,
    test: range,
    shift: float,
) -> _Test:
    """Page's CUSUM as the largest log-likelihood ratio of a segment ending now.

    ``S_n = max(0, max_k LLR(k..n))`` is Page's statistic; it is computed over the segments in
    the test window (which bounds its memory: the hysteresis) so that the variance of a segment
    can include each creator's persistent deviation, ``(c^2 + tau^2 w_i) E_i^2``, rather than
    assume independent blocks (a post better or worse than usual stays so for a day or two).
    """
    base = _baseline(views, counts, baseline)
    noise = _relative_noise(views, counts, base, baseline)
    creator_noise = [CREATOR_SPREAD**2 + RATE_SPREAD**2 * w for w in base.prior_weights]
    creator_expected = [0.0] * len(base.rates)
    observed = expected = deviation = block_variance = 0.0
    best = _Test(0.0, 0.0, 0.0, base.pooled, [0.0] * len(base.rates))
    best_start = test.stop
    for b in reversed(test):
        block_expected = _expected(views, base, b)
        e = sum(block_expected)
        if e <= 0:
            continue
        o = _observed(counts, base, b)
        own = e + noise * sum(x * x for x in block_expected)
        # Winsorised at the block's whole spread: one block (a platform removing fake likes, a
        # viral outlier) moves the statistic by a bounded amount.
        spread = own + sum(k * x * x for k, x in zip(creator_noise, block_expected, strict=True))
        # The band is centred between "no change" and the tested shift, so a change of the
        # tested size is never clipped away.
        limit = MAX_RESIDUAL * math.sqrt(spread) + (1.0 - shift) * e
        deviation += max(-limit, min(limit, o - e))
        observed += o
        expected += e
        block_variance += own
        for i, x in enumerate(block_expected):
            creator_expected[i] += x
        variance = block_variance + sum(
            k * x * x for k, x in zip(creator_noise, creator_expected, strict=True)
        )
        shift_size = (1.0 - shift) * expected
        llr = (-shift_size * deviation - shift_size * shift_size / 2) / variance
        if llr > best.statistic:
            best = _Test(llr, observed, expected, base.pooled, [])
            best_start = b
    run = range(best_start, test.stop) if best.statistic > 0 else test
    evidence = sum(1 for b in run if sum(_expected(views, base, b)) > 0)
    if best.statistic <= 0:
        for b in run:
            best = _Test(
                0.0,
                best.observed + _observed(counts, base, b),
                best.expected + sum(_expected(views, base, b)),
                base.pooled,
                [],
            )
    shortfall = [
        sum(rate * v[b] - c[b] for b in run) if rate > 0 else 0.0
        for rate, v, c in zip(base.rates, views, counts, strict=True)
    ]
    return _Test(best.statistic, best.observed, best.expected, base.pooled, shortfall, evidence)


def _status_of(
    test: _Test, min_drop: float, settings: DetectorSettings, scale: float
) -> StatusName:
    drop = -test.relative_change
    if test.expected < settings.min_expected_events:
        return "healthy"
    if (
        test.statistic >= settings.threshold * scale
        and drop >= min_drop * scale
        and test.blocks >= settings.min_evidence_blocks
    ):
        return "decaying"
    if test.statistic >= settings.watch_threshold * scale and drop >= min_drop * scale / 2:
        return "watch"
    return "healthy"


def _contributors(series: _Series, test: _Test, metric: str) -> list[Contributor]:
    lost = [max(0.0, s) for s in test.shortfall_by_creator]
    total = sum(lost)
    if total <= 0:
        return []
    ranked = sorted(zip(series.creator_ids, lost, strict=True), key=lambda p: (-p[1], p[0]))
    return [
        Contributor(
            creator_id=creator_id, metric=metric, share=amount / total, baseline=None, current=None
        )
        for creator_id, amount in ranked[:5]
        if amount > 0
    ]


def _cac(spend_micros: int, new_customers: int) -> float | None:
    return metrics.cac(from_micros(spend_micros), new_customers)


def _total(rows: list[list[int]], span: range) -> int:
    return sum(sum(row[span.start : span.stop]) for row in rows)


def _window(blocks: int, settings: DetectorSettings) -> str:
    return f"{blocks * settings.block_hours}h"


def _drop_reason(kind: str, metric: str, test: _Test, settings: DetectorSettings) -> Reason:
    return Reason(
        kind=kind,
        metric=metric,
        baseline=test.baseline_rate,
        current=test.baseline_rate * (1 + test.relative_change),
        relative_change=test.relative_change,
        window=_window(settings.test_blocks, settings),
    )


def detect(
    creators: Sequence[CreatorState],
    watermark: float | None,
    targets: CampaignTargets = CampaignTargets(),
    settings: DetectorSettings = DetectorSettings(),
) -> Assessment:
    """The status of a campaign (or of one creator) as of ``watermark``, with reasons."""
    if watermark is None or not creators:
        return Assessment("insufficient_data")
    scale = _SENSITIVITY_SCALE[targets.sensitivity]
    size = settings.block_hours * int(HOUR)
    blocks = settings.history_blocks
    first_block = int(watermark) // size - (blocks - 1)
    series = _series(creators, first_block, blocks, size)
    baseline = range(0, blocks - settings.test_blocks)
    test = range(blocks - settings.test_blocks, blocks)

    if not _enough_history(series, baseline, settings):
        return Assessment("insufficient_data")

    found: list[tuple[StatusName, Reason, list[Contributor]]] = []
    engagement = _cusum_drop(
        series.views, series.engagements, baseline, test, settings.engagement_shift
    )
    status = _status_of(engagement, settings.min_engagement_drop, settings, scale)
    if status != "healthy":
        found.append(
            (
                status,
                _drop_reason(
                    "engagement_rate_drop", "engagement_rate_by_views", engagement, settings
                ),
                _contributors(series, engagement, "engagements"),
            )
        )

    # Conversions arrive later than post metrics (promo codes are reported up to a day late),
    # so the conversion test stops where that data has settled.
    settled = blocks - settings.conversion_settle_blocks
    conversion_baseline = range(0, settled - settings.test_blocks)
    conversion_test = range(settled - settings.test_blocks, settled)
    if _total(
        series.conversions, conversion_baseline
    ) >= settings.min_baseline_conversions and _enough_history(
        series, conversion_baseline, settings
    ):
        conversions = _cusum_drop(
            series.views,
            series.conversions,
            conversion_baseline,
            conversion_test,
            settings.conversion_shift,
        )
        status = _status_of(conversions, settings.min_conversion_drop, settings, scale)
        if status != "healthy":
            found.append(
                (
                    status,
                    _drop_reason(
                        "conversion_rate_drop", "conversions_per_view", conversions, settings
                    ),
                    _contributors(series, conversions, "conversions"),
                )
            )
            cac_reason = _cac_rise(series, conversion_baseline, conversion_test, settings)
            if cac_reason is not None:
                found.append((status, cac_reason, []))

    target = _target_breach(series, range(blocks - 12, blocks), targets, settings)
    if target is not None:
        found.append((*target, []))

    if not found:
        return Assessment("healthy")
    worst = max((s for s, _, _ in found), key=_SEVERITY.__getitem__)
    contributors = next((c for s, _, c in found if s == worst and c), [])
    return Assessment(worst, [r for _, r, _ in found], contributors)


def _enough_history(series: _Series, baseline: range, settings: DetectorSettings) -> bool:
    views = _total(series.views, baseline)
    active = sum(1 for b in baseline if any(v[b] for v in series.views))
    return views >= settings.min_baseline_views and active >= settings.min_baseline_blocks


def _cac_rise(
    series: _Series, baseline: range, recent: range, settings: DetectorSettings
) -> Reason | None:
    def cac_over(span: range) -> float | None:
        return _cac(_total(series.spend_micros, span), _total(series.new_customers, span))

    before, now = cac_over(baseline), cac_over(recent)
    if before is None or now is None or before == 0:
        return None
    change = now / before - 1.0
    if change < settings.cac_rise:
        return None
    return Reason(
        kind="cac_rise",
        metric="cac",
        baseline=before,
        current=now,
        relative_change=change,
        window=_window(len(recent), settings),
    )


def _target_breach(
    series: _Series, span: range, targets: CampaignTargets, settings: DetectorSettings
) -> tuple[StatusName, Reason] | None:
    if targets.target_cac is None:
        return None
    customers = _total(series.new_customers, span)
    cac = _cac(_total(series.spend_micros, span), customers)
    if cac is None or customers < settings.min_recent_new_customers:
        return None
    over = cac / targets.target_cac - 1.0
    if over <= settings.target_tolerance:
        return None
    status: StatusName = "decaying" if over >= settings.target_decay else "watch"
    return status, Reason(
        kind="cac_above_target",
        metric="cac",
        baseline=targets.target_cac,
        current=cac,
        relative_change=over,
        window=_window(len(span), settings),
    )
