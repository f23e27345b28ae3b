"""From test results to a status: thresholds, reasons, contributors, and the worst finding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from services.domain.detection.likelihood import DropTest
from services.domain.detection.settings import SEVERITY, DetectorSettings
from services.domain.views import Contributor, Reason, StatusName


@dataclass(frozen=True, slots=True)
class Assessment:
    status: StatusName
    reasons: list[Reason] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)


class Finding(NamedTuple):
    """One test's status other than healthy, why, and the creators that contributed most."""

    status: StatusName
    reason: Reason
    contributors: list[Contributor]


def assessment_of(found: list[Finding]) -> Assessment:
    """The worst status found, every reason, and the contributors of the first worst finding
    that names any; healthy without findings."""
    if not found:
        return Assessment("healthy")
    worst = max((f.status for f in found), key=SEVERITY.__getitem__)
    named = next((f.contributors for f in found if f.status == worst and f.contributors), [])
    return Assessment(worst, [f.reason for f in found], named)


def status_of(
    test: DropTest,
    min_drop: float,
    threshold: float,
    settings: DetectorSettings,
    scale: float,
    min_blocks: int | None = None,
) -> StatusName:
    """Decaying when the statistic passes ``threshold`` with a fitted drop of at least
    ``min_drop`` over enough blocks of evidence; watch at half of both (the early statistic of a
    segment too short to decay included); healthy otherwise, or with too few expected events."""
    drop = test.fitted_drop
    if test.expected < settings.min_expected_events:
        return "healthy"
    if (
        test.statistic >= threshold * scale
        and drop >= min_drop * scale
        and test.blocks >= (settings.min_evidence_blocks if min_blocks is None else min_blocks)
    ):
        return "decaying"
    for statistic, fitted in ((test.statistic, drop), (test.early_statistic, test.early_drop)):
        if statistic >= threshold / 2 * scale and fitted >= min_drop * scale / 2:
            return "watch"
    return "healthy"


class Checked(Protocol):
    @property
    def status(self) -> StatusName: ...


def persisted(status: StatusName, before: Callable[[], Checked | None]) -> StatusName:
    """``status``, except that ``decaying`` needs the same test one block ago (``before``, None
    without enough data then) to have seen the change too: one block, however bad, is at most
    watch."""
    if status != "decaying":
        return status
    earlier = before()
    return "watch" if earlier is None or earlier.status == "healthy" else status


def contributors(creator_ids: list[str], shortfall: list[float], metric: str) -> list[Contributor]:
    """The (up to five) creators with the largest shortfall, with their share of the total."""
    lost = [max(0.0, s) for s in shortfall]
    total = sum(lost)
    if total <= 0:
        return []
    ranked = sorted(zip(creator_ids, lost, strict=True), key=lambda p: (-p[1], p[0]))
    return [
        Contributor(
            creator_id=creator_id, metric=metric, share=amount / total, baseline=None, current=None
        )
        for creator_id, amount in ranked[:5]
        if amount > 0
    ]


def window(blocks: int, settings: DetectorSettings) -> str:
    """A span of ``blocks`` blocks as a reason's window, e.g. ``48h``."""
    return f"{blocks * settings.block_hours}h"


def drop_reason(
    kind: str, metric: str, test: DropTest, blocks: int, settings: DetectorSettings
) -> Reason:
    """The reason for a test's drop: its baseline rate and the rate over the run it found."""
    return Reason(
        kind=kind,
        metric=metric,
        baseline=test.baseline_rate,
        current=test.baseline_rate * (1 + test.relative_change),
        relative_change=test.relative_change,
        window=window(blocks, settings),
    )
