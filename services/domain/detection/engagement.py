"""The engagement test: engagements per view against each creator's own baseline, with link
clicks as a second witness of the same decline."""

from __future__ import annotations

from typing import NamedTuple

from services.domain.detection.likelihood import DropTest, drop_test
from services.domain.detection.series import BlockSeries
from services.domain.detection.settings import POST_BLOCKS, DetectorSettings
from services.domain.detection.status import (
    Finding,
    contributors,
    drop_reason,
    status_of,
    window,
)
from services.domain.views import Reason, StatusName


class EngagementCheck(NamedTuple):
    """The engagement test's status and the test it rests on."""

    status: StatusName
    test: DropTest


def engagement_check(
    series: BlockSeries,
    baseline: range,
    test: range,
    settings: DetectorSettings,
    scale: float,
) -> EngagementCheck:
    """The drop test of engagements per view (clicks the witness) over ``test``, against
    ``baseline``; decaying only if the same test one block ago was not healthy."""
    min_drop, threshold = settings.min_engagement_drop, settings.threshold

    def tested(baseline: range, test: range) -> DropTest:
        return drop_test(
            series.views,
            series.engagements,
            baseline,
            test,
            settings.engagement_band,
            settings.min_evidence_blocks,
            witness=series.clicks,
            post_blocks=POST_BLOCKS if settings.noise_per_post_day else None,
        )

    found = tested(baseline, test)
    status = status_of(found, min_drop, threshold, settings, scale)
    if status == "decaying":
        # One block, however bad (an outage), is at most watch: the same test one block ago,
        # without the newest block, must already have seen the drop coming.
        before = tested(
            range(baseline.start, baseline.stop - 1), range(test.start - 1, test.stop - 1)
        )
        if status_of(before, min_drop, threshold, settings, scale) == "healthy":
            status = "watch"
    return EngagementCheck(status, found)


def engagement_finding(
    status: StatusName, series: BlockSeries, test: DropTest, settings: DetectorSettings
) -> Finding:
    """The reason for an engagement test's status: the engagement rate's drop, unless it held
    (fell by less than half the minimum drop) while clicks per view fell by the minimum drop or
    more (a broken or removed link): then the click-through's drop, with the creators ranked by
    the clicks they lost."""
    clicks_change = test.witness_change
    if (
        clicks_change is not None
        and clicks_change <= -settings.min_engagement_drop
        and test.relative_change > -settings.min_engagement_drop / 2
    ):
        reason = Reason(
            kind="click_through_drop",
            metric="clicks_per_view",
            baseline=test.witness_rate,
            current=test.witness_rate * (1 + clicks_change),
            relative_change=clicks_change,
            window=window(settings.test_blocks, settings),
        )
        return Finding(
            status, reason, contributors(series.creator_ids, test.witness_shortfall, "clicks")
        )
    reason = drop_reason(
        "engagement_rate_drop", "engagement_rate_by_views", test, settings.test_blocks, settings
    )
    return Finding(
        status, reason, contributors(series.creator_ids, test.shortfall_by_creator, "engagements")
    )
