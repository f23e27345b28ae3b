"""A campaign's or creator's health from its own history.

The last 24 h of event time is compared with the six days before it (the baseline). Too little
data in either stays ``insufficient_data`` rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.domain import metrics
from services.domain.counters import Counters
from services.domain.money import from_micros
from services.domain.state import CreatorState
from services.domain.views import Reason, StatusName, window_counters
from services.domain.windows import DAY, WINDOWS, Window

CURRENT = WINDOWS[0]
HISTORY = WINDOWS[1]


@dataclass(frozen=True, slots=True)
class StatusRules:
    min_views: int = 2_000
    min_new_customers: int = 3
    watch_drop: float = 0.20
    decay_drop: float = 0.35
    watch_rise: float = 0.30
    decay_rise: float = 0.60


_SEVERITY: dict[StatusName, int] = {"insufficient_data": 0, "healthy": 1, "watch": 2, "decaying": 3}


def _baseline(creators: Sequence[CreatorState], watermark: float) -> Counters:
    history = window_counters(creators, HISTORY, watermark)
    recent = window_counters(creators, Window("recent", DAY), watermark)
    baseline = Counters()
    for name in ("views", "likes", "comments", "shares", "saves", "spend_micros", "new_customers"):
        setattr(baseline, name, getattr(history, name) - getattr(recent, name))
    return baseline


def _relative(current: float, baseline: float) -> float:
    return (current - baseline) / baseline


def assess(
    creators: Sequence[CreatorState], watermark: float | None, rules: StatusRules = StatusRules()
) -> tuple[StatusName, list[Reason]]:
    if watermark is None:
        return "insufficient_data", []
    current = window_counters(creators, CURRENT, watermark)
    baseline = _baseline(creators, watermark)
    if current.views < rules.min_views or baseline.views < rules.min_views:
        return "insufficient_data", []

    found: list[tuple[StatusName, Reason]] = []
    rate_now = metrics.engagement_rate_by_views(current.engagements, current.views)
    rate_before = metrics.engagement_rate_by_views(baseline.engagements, baseline.views)
    if rate_now is not None and rate_before:
        change = _relative(rate_now, rate_before)
        if change <= -rules.watch_drop:
            status: StatusName = "decaying" if change <= -rules.decay_drop else "watch"
            reason = Reason(
                kind="engagement_rate_drop",
                metric="engagement_rate_by_views",
                baseline=rate_before,
                current=rate_now,
                relative_change=change,
                window=CURRENT.name,
            )
            found.append((status, reason))

    if (
        current.new_customers >= rules.min_new_customers
        and baseline.new_customers >= rules.min_new_customers
    ):
        cac_now = metrics.cac(from_micros(current.spend_micros), current.new_customers)
        cac_before = metrics.cac(from_micros(baseline.spend_micros), baseline.new_customers)
        if cac_now is not None and cac_before:
            change = _relative(cac_now, cac_before)
            if change >= rules.watch_rise:
                status = "decaying" if change >= rules.decay_rise else "watch"
                reason = Reason(
                    kind="cac_rise",
                    metric="cac",
                    baseline=cac_before,
                    current=cac_now,
                    relative_change=change,
                    window=CURRENT.name,
                )
                found.append((status, reason))

    if not found:
        return "healthy", []
    worst = max((s for s, _ in found), key=_SEVERITY.__getitem__)
    return worst, [r for _, r in found]
