"""Follower tiers. Defaults follow Mediakix / HypeAuditor: nano < 10k <= micro < 50k <= mid < 500k
<= macro < 1M <= mega; other sources draw the lines elsewhere, so the bounds are configurable
(``PULSE_TIER_BOUNDS``, validated by ``tier_bounds``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_TIER_BOUNDS: tuple[tuple[str, int], ...] = (
    ("nano", 0),
    ("micro", 10_000),
    ("mid", 50_000),
    ("macro", 500_000),
    ("mega", 1_000_000),
)

TierBounds = tuple[tuple[str, int], ...]


def tier_of(followers: int, bounds: Sequence[tuple[str, int]] = DEFAULT_TIER_BOUNDS) -> str:
    name = bounds[0][0]
    for tier, lower in bounds:
        if followers >= lower:
            name = tier
    return name


def tier_bounds(lower_bounds: Mapping[str, int]) -> TierBounds:
    """Tiers by their lowest follower count, ordered; the smallest tier must start at 0 so that
    every creator has one."""
    if not lower_bounds:
        raise ValueError("name at least one tier")
    ordered = tuple(sorted(lower_bounds.items(), key=lambda item: item[1]))
    if ordered[0][1] != 0:
        raise ValueError(f"the smallest tier ('{ordered[0][0]}') must start at 0 followers")
    lowers = [lower for _, lower in ordered]
    if len(set(lowers)) != len(lowers):
        raise ValueError("two tiers start at the same follower count")
    return ordered


def tier_range(tier: str, bounds: Sequence[tuple[str, int]]) -> tuple[int, int | None]:
    """The follower counts [lower, upper) of ``tier``; upper is None for the largest."""
    for index, (name, lower) in enumerate(bounds):
        if name == tier:
            upper = bounds[index + 1][1] if index + 1 < len(bounds) else None
            return lower, upper
    raise KeyError(tier)
