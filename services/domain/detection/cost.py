"""The cost test: CAC that balloons from spend (fees and boosts escalating while engagement and
conversions hold), as each creator's spend per post against its own.

The conversion tests cannot see it: they look for conversions falling, and the CAC is compared
with its past only once they have found that. Spend is known at once, and a post's fee is paid
when it is posted, so spend per post is the campaign's price with no settling delay and none of
the counting noise of conversions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from services.domain.detection.series import BlockSeries
from services.domain.detection.settings import COST_NOISE, DetectorSettings
from services.domain.detection.status import Finding, contributors, persisted, window
from services.domain.money import from_micros
from services.domain.views import Reason, StatusName


class CostTest(NamedTuple):
    """Spend against what the run's posts cost at each creator's baseline price, and the
    statistic ``Z^2 / 2`` of the rise (0 when spend did not rise)."""

    statistic: float
    observed: float
    expected: float
    posts: int
    blocks: int
    added_by_creator: list[float]

    @property
    def rise(self) -> float:
        return self.observed / self.expected - 1.0 if self.expected else 0.0


class CostCheck(NamedTuple):
    """The cost test's status and the run it rests on (the change point with the largest
    statistic)."""

    status: StatusName
    test: CostTest


def cost_findings(
    series: BlockSeries, launched: int, settings: DetectorSettings, scale: float
) -> list[Finding]:
    """A ``cac_rise`` of spend per post, naming the creators whose spend rose most."""
    settled = settings.history_blocks - settings.cost_settle_blocks
    checked = cost_check(series, launched, settled, settings, scale)
    if checked is None:
        return []
    status = persisted(
        checked.status, lambda: cost_check(series, launched, settled - 1, settings, scale)
    )
    if status == "healthy":
        return []
    test = checked.test
    reason = Reason(
        kind="cac_rise",
        metric="spend_per_post",
        baseline=from_micros(round(test.expected / test.posts)),
        current=from_micros(round(test.observed / test.posts)),
        relative_change=test.rise,
        window=window(test.blocks, settings),
    )
    named = contributors(series.creator_ids, test.added_by_creator, "spend_per_post")
    return [Finding(status, reason, named)]


def cost_check(
    series: BlockSeries, launched: int, settled: int, settings: DetectorSettings, scale: float
) -> CostCheck | None:
    """The cost test on blocks up to ``settled`` (exclusive), its change point anywhere in the
    last ``cost_test_blocks`` after ``min_cost_baseline_blocks`` of baseline; None when no run
    has enough posts."""
    first = max(launched + settings.min_cost_baseline_blocks, settled - settings.cost_test_blocks)
    tests = [
        found
        for k in range(first, settled)
        if (found := cost_test(series, range(launched, k), range(k, settled))).posts
        >= settings.min_cost_posts
    ]
    if not tests:
        return None
    best = max(tests, key=lambda t: t.statistic)
    threshold, min_rise = settings.cost_threshold * scale, settings.cac_rise * scale
    status: StatusName = "healthy"
    if (
        best.statistic >= threshold
        and best.rise >= min_rise
        and best.blocks >= settings.min_evidence_blocks
    ):
        status = "decaying"
    elif best.statistic >= threshold / 2 and best.rise >= min_rise / 2:
        status = "watch"
    return CostCheck(status, best)


def cost_test(series: BlockSeries, baseline: range, run: range) -> CostTest:
    """Spend over ``run`` against its posts at each creator's baseline spend per post.

    A creator counts only with posts in both spans, and its spend in the run only up to the
    block of its newest known post: its fees are paid when it posts, so spend after it (a post
    whose first snapshot is still to come) says nothing about its price. Each post's cost varies
    by ``COST_NOISE`` around its creator's usual, and the baseline's price is known only as well
    as its posts tell it, so a creator's expected spend ``n m`` has variance
    ``c^2 m^2 (n + n^2 / N)`` with ``N`` baseline posts."""
    observed = expected = variance = 0.0
    posts = 0
    added = [0.0] * len(series.creator_ids)
    for i, row in enumerate(series.posts):
        base_posts = sum(row[baseline.start : baseline.stop])
        run_posts = sum(row[run.start : run.stop])
        if not base_posts or not run_posts:
            continue
        spend = series.spend_micros[i]
        price = sum(spend[baseline.start : baseline.stop]) / base_posts
        newest = max(b for b in run if row[b])
        paid = sum(spend[run.start : newest + 1])
        observed += paid
        expected += run_posts * price
        variance += COST_NOISE**2 * price**2 * (run_posts + run_posts**2 / base_posts)
        posts += run_posts
        added[i] = paid - run_posts * price
    z = (observed - expected) / math.sqrt(variance) if variance > 0 else 0.0
    return CostTest(max(0.0, z) ** 2 / 2, observed, expected, posts, len(run), added)
