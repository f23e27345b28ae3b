"""The conversion tests (a CAC creep: conversions falling while views, engagement and spend
hold), on data that has settled, counted by day; and the CAC against its past and its target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from services.domain import metrics
from services.domain.buckets import ARRIVAL_BLOCKS
from services.domain.detection.likelihood import DropTest, drop_test, trend_test
from services.domain.detection.series import BlockSeries, enough_history, total
from services.domain.detection.settings import SEVERITY, CampaignTargets, DetectorSettings
from services.domain.detection.status import (
    Finding,
    contributors,
    drop_reason,
    persisted,
    status_of,
    window,
)
from services.domain.money import from_micros
from services.domain.views import Reason, StatusName


class ConversionCheck(NamedTuple):
    """The conversion tests' status, the test it rests on, and the blocks of its baseline and of
    its run (the change)."""

    status: StatusName
    test: DropTest
    baseline: range
    recent: range


def conversion_findings(
    series: BlockSeries, launched: int, settings: DetectorSettings, scale: float
) -> list[Finding]:
    """The conversion rate's drop and the CAC's rise, if the conversion tests see a change."""
    # Conversions arrive later than post metrics (promo codes are reported up to a day late):
    # the conversion test stops where that data has settled, or, once the campaign's own
    # reporting delay is known, tests the fresher blocks against what is known of them by now.
    known = completeness(series, settings)
    settle = settings.conversion_settle_blocks if known is None else settings.known_settle_blocks
    settled = settings.history_blocks - settle
    # Without a known launch (no posts), the conversion test never counts the window's first day
    # in its baseline: a campaign that launched just before the window could have its launch day
    # there. With the launch known from its first post, that day is excluded already.
    if series.launch_block is None:
        launched = max(launched, settings.launch_blocks)
    checked = conversion_check(series, launched, settled, settings, scale, known)
    if checked is None:
        return []
    status = persisted(
        checked.status,
        lambda: conversion_check(series, launched, settled - 1, settings, scale, known),
    )
    if status == "healthy":
        return []
    found = [
        Finding(
            status,
            drop_reason(
                "conversion_rate_drop",
                "conversions_per_view",
                checked.test,
                len(checked.recent),
                settings,
            ),
            contributors(series.creator_ids, checked.test.shortfall_by_creator, "conversions"),
        )
    ]
    cac_reason = cac_rise(series, checked.baseline, checked.recent, settings)
    if cac_reason is not None:
        found.append(Finding(status, cac_reason, []))
    return found


def conversion_check(
    series: BlockSeries,
    launched: int,
    settled: int,
    settings: DetectorSettings,
    scale: float,
    known: list[float] | None = None,
) -> ConversionCheck | None:
    """The conversion test on data up to block ``settled`` (exclusive), in groups of
    ``conversion_group_blocks`` blocks counted back from it; None without enough baseline.
    With ``known`` (see ``completeness``) a block ``d`` blocks old is expected to show only
    ``known[d]`` of its conversions yet."""
    size = settings.conversion_group_blocks
    groups = (settled - launched) // size
    origin = settled - groups * size
    test_groups = settings.conversion_test_blocks // size
    min_base = -(-settings.min_conversion_baseline_blocks // size)
    first = max(groups - test_groups, min(min_base, groups - settings.test_blocks // size))
    if first <= 0:
        return None
    if total(
        series.conversions, range(origin, origin + first * size)
    ) < settings.min_baseline_conversions or not enough_history(
        series, range(origin, origin + first * size), settings
    ):
        return None
    lagged = reported_later(series.views, settings.conversion_view_lag)
    newest = settings.history_blocks - 1
    for row in lagged:
        for age, share in enumerate(known or []):
            row[newest - age] *= share
    # Evidence is counted in days: one settled day is already four blocks of it.
    min_blocks = max(1, settings.min_evidence_blocks // size)

    def grouped(rows: Sequence[Sequence[float]]) -> list[list[float]]:
        return [
            [sum(row[origin + g * size : origin + (g + 1) * size]) for g in range(groups)]
            for row in rows
        ]

    views = grouped(lagged)
    counts = [[round(x) for x in row] for row in grouped(series.conversions)]
    # A change may start on any day after the minimum baseline; every day before it is baseline.
    found, start = max(
        (
            (
                drop_test(
                    views,
                    counts,
                    range(0, k),
                    range(k, groups),
                    settings.conversion_band,
                    min_blocks,
                    overdispersed=True,
                ),
                k,
            )
            for k in range(first, groups)
        ),
        key=lambda pair: pair[0].statistic,
    )
    status = status_of(
        found,
        settings.min_conversion_drop,
        settings.conversion_threshold,
        settings,
        scale,
        min_blocks,
    )
    if settings.conversion_trend_threshold > 0 and groups >= settings.min_trend_days:
        trend = trend_test(views, counts, first, settings.conversion_band)
        trend_status = status_of(
            trend.test,
            settings.min_conversion_drop,
            settings.conversion_trend_threshold,
            settings,
            scale,
            min_blocks,
        )
        if SEVERITY[trend_status] > SEVERITY[status]:
            status, found, start = trend_status, trend.test, max(trend.split, 1)
    split = origin + start * size
    return ConversionCheck(status, found, range(origin, split), range(split, settled))


def completeness(series: BlockSeries, settings: DetectorSettings) -> list[float] | None:
    """The share of a block's conversions known ``d`` blocks after it, for ``d`` below
    ``conversion_settle_blocks``, learned on the window's blocks old enough for every delay
    recorded (``ARRIVAL_BLOCKS``); None with fewer than ``min_baseline_conversions`` there."""
    settle = settings.conversion_settle_blocks
    old = series.conversion_arrivals[: len(series.conversion_arrivals) - ARRIVAL_BLOCKS]
    recorded = sum(sum(row) for row in old)
    if recorded < settings.min_baseline_conversions:
        return None
    return [sum(sum(row[: age + 1]) for row in old) / recorded for age in range(settle)]


def reported_later(views: list[list[int]], lag: float) -> list[list[float]]:
    """The views that go with each block's conversions: a conversion happens between two
    snapshots of a post, whose views are counted when the later snapshot reports them, so
    ``lag`` of a block's conversions have their views in the next block."""
    return [
        [(1 - lag) * v[b] + lag * (v[b + 1] if b + 1 < len(v) else v[b]) for b in range(len(v))]
        for v in views
    ]


def cac_rise(
    series: BlockSeries, baseline: range, recent: range, settings: DetectorSettings
) -> Reason | None:
    """The CAC's rise from ``baseline`` to ``recent``, if it rose by ``cac_rise`` or more."""

    def cac_over(span: range) -> float | None:
        return cac(total(series.spend_micros, span), total(series.new_customers, span))

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
        window=window(len(recent), settings),
    )


def target_breach(
    series: BlockSeries, span: range, targets: CampaignTargets, settings: DetectorSettings
) -> Finding | None:
    """The CAC over ``span`` above the campaign's target by more than the tolerance: watch, or
    decaying from ``target_decay`` above it."""
    if targets.target_cac is None:
        return None
    customers = total(series.new_customers, span)
    recent_cac = cac(total(series.spend_micros, span), customers)
    if recent_cac is None or customers < settings.min_recent_new_customers:
        return None
    over = recent_cac / targets.target_cac - 1.0
    if over <= settings.target_tolerance:
        return None
    status: StatusName = "decaying" if over >= settings.target_decay else "watch"
    reason = Reason(
        kind="cac_above_target",
        metric="cac",
        baseline=targets.target_cac,
        current=recent_cac,
        relative_change=over,
        window=window(len(span), settings),
    )
    return Finding(status, reason, [])


def cac(spend_micros: int, new_customers: int) -> float | None:
    """Customer acquisition cost: spend per new customer (None without new customers)."""
    return metrics.cac(from_micros(spend_micros), new_customers)
