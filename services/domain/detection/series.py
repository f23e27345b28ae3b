"""The six-hour block series a campaign is assessed on, and what its baseline may include.

The unit of observation is a six-hour block of event time (aligned to UTC, the current block
included while it fills): hourly buckets are too lumpy to test, since a post's metrics are reported
by snapshots every three to six hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.domain.buckets import ARRIVAL_BLOCKS
from services.domain.detection.settings import DetectorSettings
from services.domain.state import CreatorState


@dataclass(slots=True)
class BlockSeries:
    """Views, engagements, conversions, new customers and spend per creator and block."""

    creator_ids: list[str]
    views: list[list[int]]
    engagements: list[list[int]]
    conversions: list[list[int]]
    new_customers: list[list[int]]
    spend_micros: list[list[int]]
    clicks: list[list[int]]
    # The block of the campaign's first post (its launch), relative to the window; None when no
    # post is known (then the first block with views stands in for it).
    launch_block: int | None = None
    # Posts per creator and block of their posting time (the cost test's unit: spend per post).
    posts: list[list[int]] = field(default_factory=list)
    # Per block, the campaign's conversions by how many blocks after it they arrived (the state's
    # ``Bucket.arrivals``, summed over creators): the conversions' reporting delay.
    conversion_arrivals: list[list[int]] = field(default_factory=list)


def block_series(
    creators: Sequence[CreatorState], first_block: int, blocks: int, size: int
) -> BlockSeries:
    """The creators' buckets summed into ``blocks`` blocks of ``size`` seconds, the first being
    block number ``first_block`` (counted from the epoch)."""

    def empty() -> list[list[int]]:
        return [[0] * blocks for _ in creators]

    series = BlockSeries(
        [c.creator_id for c in creators],
        empty(),
        empty(),
        empty(),
        empty(),
        empty(),
        empty(),
        posts=empty(),
        conversion_arrivals=[[0] * ARRIVAL_BLOCKS for _ in range(blocks)],
    )
    posted = [p.posted_at for c in creators for p in c.posts.values()]
    if posted:
        series.launch_block = int(min(posted)) // size - first_block
    for index, creator in enumerate(creators):
        views, engagements = series.views[index], series.engagements[index]
        conversions, customers = series.conversions[index], series.new_customers[index]
        spend, clicks = series.spend_micros[index], series.clicks[index]
        for post in creator.posts.values():
            slot = int(post.posted_at) // size - first_block
            if 0 <= slot < blocks:
                series.posts[index][slot] += 1
        for start, bucket in creator.buckets.items():
            slot = start // size - first_block
            if 0 <= slot < blocks:
                c = bucket.counters
                views[slot] += c.views
                engagements[slot] += c.likes + c.comments + c.shares + c.saves
                conversions[slot] += c.conversions
                customers[slot] += c.new_customers
                spend[slot] += c.spend_micros
                clicks[slot] += c.clicks
                if bucket.arrivals:
                    arrived = series.conversion_arrivals[slot]
                    for late, count in enumerate(bucket.arrivals):
                        arrived[late] += count
    return series


def after_launch(series: BlockSeries, settings: DetectorSettings) -> int:
    """The first block after the campaign's launch day, which is no baseline: every creator's
    first post lands at once, and conversions (counted when they happen) run ahead of views
    (counted when a snapshot reports them) while the counts ramp up.

    The launch is the campaign's first post, which the state remembers after its blocks have
    left the window: a campaign launched just before the window (or in its first block) has the
    rest of its launch day excluded too. Without posts, the first block with views stands in,
    and a window whose first block has views is taken to start after the launch."""
    if series.launch_block is not None:
        return max(0, min(settings.history_blocks, series.launch_block + settings.launch_blocks))
    first = next(
        (b for b in range(settings.history_blocks) if any(v[b] for v in series.views)),
        settings.history_blocks,
    )
    return 0 if first == 0 else first + settings.launch_blocks


def enough_history(series: BlockSeries, baseline: range, settings: DetectorSettings) -> bool:
    """Whether ``baseline`` holds enough engagements and active blocks to assess the campaign."""
    engagements = total(series.engagements, baseline)
    active = sum(1 for b in baseline if any(v[b] for v in series.views))
    return (
        engagements >= settings.min_baseline_engagements and active >= settings.min_baseline_blocks
    )


def total(rows: list[list[int]], span: range) -> int:
    """The sum of every row over the blocks of ``span``."""
    return sum(sum(row[span.start : span.stop]) for row in rows)
