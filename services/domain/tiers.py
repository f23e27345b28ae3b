"""Follower tiers. Defaults follow Mediakix / HypeAuditor: nano < 10k <= micro < 50k <= mid < 500k
<= macro < 1M <= mega; other sources draw the lines elsewhere, so the bounds are configurable."""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_TIER_BOUNDS: tuple[tuple[str, int], ...] = (
    ("nano", 0),
    ("micro", 10_000),
    ("mid", 50_000),
    ("macro", 500_000),
    ("mega", 1_000_000),
)


def tier_of(followers: int, bounds: Sequence[tuple[str, int]] = DEFAULT_TIER_BOUNDS) -> str:
    name = bounds[0][0]
    for tier, lower in bounds:
        if followers >= lower:
            name = tier
    return name
