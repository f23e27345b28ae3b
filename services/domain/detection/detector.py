"""The entry point: a campaign's (or a creator's) status as of a watermark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.domain.detection.conversions import conversion_findings, target_breach
from services.domain.detection.cost import cost_findings
from services.domain.detection.engagement import engagement_check, engagement_finding
from services.domain.detection.series import (
    BlockSeries,
    after_launch,
    block_series,
    enough_history,
)
from services.domain.detection.settings import (
    DEFAULT_SETTINGS,
    DEFAULT_TARGETS,
    SENSITIVITY_SCALE,
    CampaignTargets,
    DetectorSettings,
)
from services.domain.detection.status import Assessment, Finding, assessment_of
from services.domain.state import CreatorState
from services.domain.windows import HOUR


def detect(
    creators: Sequence[CreatorState],
    watermark: float | None,
    targets: CampaignTargets = DEFAULT_TARGETS,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> Assessment:
    """The status of a campaign (or of one creator) as of ``watermark``, with reasons.

    With ``settings.confirm_blocks`` (a creator's own status), ``decaying`` is confirmed by the
    status as of that many blocks earlier, on the data now known: not decaying then, it is
    ``watch`` with the same reasons."""
    if watermark is None or not creators:
        return Assessment("insufficient_data")
    size = settings.block_hours * int(HOUR)
    blocks = settings.history_blocks
    first_block = int(watermark) // size - (blocks - 1)
    series = block_series(creators, first_block, blocks, size)
    found = assess(series, targets, settings)
    if found.status == "decaying" and settings.confirm_blocks > 0:
        # The same assessment as of ``confirm_blocks`` blocks earlier (the data after that
        # block falls outside its window) must have been decaying too.
        earlier = detect(
            creators,
            watermark - settings.confirm_blocks * size,
            targets,
            replace(settings, confirm_blocks=0),
        )
        if earlier.status != "decaying":
            return Assessment("watch", found.reasons, found.contributors)
    return found


def assess(series: BlockSeries, targets: CampaignTargets, settings: DetectorSettings) -> Assessment:
    """The status of a block series: the engagement test, the conversion tests and the CAC
    target, the worst of their findings."""
    scale = SENSITIVITY_SCALE[targets.sensitivity]
    blocks = settings.history_blocks
    launched = after_launch(series, settings)
    baseline = range(launched, blocks - settings.test_blocks)
    test = range(blocks - settings.test_blocks, blocks)

    if not enough_history(series, baseline, settings):
        return Assessment("insufficient_data")

    found: list[Finding] = []
    engagement = engagement_check(series, baseline, test, settings, scale)
    if engagement.status != "healthy":
        found.append(engagement_finding(engagement.status, series, engagement.test, settings))

    found.extend(conversion_findings(series, launched, settings, scale))
    found.extend(cost_findings(series, launched, settings, scale))

    target = target_breach(series, range(blocks - 12, blocks), targets, settings)
    if target is not None:
        found.append(target)

    return assessment_of(found)
