"""``engagement_out_of_band``: a post's engagement rate by views far outside the band of its
creator's tier and platform, measured on the team's own data (every creator the monitor holds).

A band is the median of the creators' lifetime engagement rates by views in that tier and
platform (each with enough views); with too few such creators the platform's median stands in,
and with too few of those there is no band and no flag."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.domain.suspicion.flag import Flag
from services.domain.suspicion.settings import SuspicionSettings
from services.domain.tiers import DEFAULT_TIER_BOUNDS, tier_of

if TYPE_CHECKING:
    from services.domain.state import CreatorState

Group = tuple[str, str]
KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class Band:
    measured_on: str
    """``platform/tier``, or ``platform`` when the tier had too few creators."""
    median: float
    creators: int


@dataclass
class EngagementBands:
    """Each creator's lifetime engagement rate by views, by (platform, tier), kept up to date as
    creators are seen; ``median`` reads a group's band."""

    settings: SuspicionSettings
    tier_bounds: Sequence[tuple[str, int]] = DEFAULT_TIER_BOUNDS
    rates: dict[Group, dict[str, float]] = field(default_factory=dict)
    _bands: dict[str, Band | None] = field(default_factory=dict)

    def see(self, creators: Iterable[CreatorState]) -> None:
        for creator in creators:
            key = f"{creator.campaign_id}{KEY_SEPARATOR}{creator.creator_id}"
            for members in self.rates.values():
                members.pop(key, None)
            lifetime = creator.lifetime
            if creator.platform is None or lifetime.views < self.settings.band_min_views:
                continue
            group = (creator.platform, tier_of(creator.followers, self.tier_bounds))
            self.rates.setdefault(group, {})[key] = lifetime.engagements / lifetime.views
        self._bands.clear()

    def forget(self, holds: Callable[[str], bool]) -> None:
        """Drop the creators of the campaigns for which ``holds`` is false."""
        for members in self.rates.values():
            for key in [k for k in members if not holds(k.split(KEY_SEPARATOR, 1)[0])]:
                del members[key]
        self._bands.clear()

    def band(self, platform: str, tier: str) -> Band | None:
        """The tier's band on the platform, else the platform's, else none (too few creators)."""
        for name in (f"{platform}/{tier}", platform):
            if name not in self._bands:
                values = [
                    rate
                    for (on, of), members in self.rates.items()
                    if on == platform and name in (platform, f"{on}/{of}")
                    for rate in members.values()
                ]
                enough = len(values) >= self.settings.band_min_creators
                self._bands[name] = (
                    Band(name, statistics.median(values), len(values)) if enough else None
                )
            found = self._bands[name]
            if found is not None:
                return found
        return None


def out_of_band(creator: CreatorState, bands: EngagementBands) -> list[Flag]:
    """The creator's posts whose latest engagement rate by views is above ``band_factor`` times
    the band's median, or below the median divided by it when the creator's lifetime rate is
    too."""
    settings = bands.settings
    if creator.platform is None:
        return []
    band = bands.band(creator.platform, tier_of(creator.followers, bands.tier_bounds))
    if band is None or band.median <= 0:
        return []
    lifetime = creator.lifetime
    low = band.median / settings.band_factor
    # Below the band, only a creator low as a whole (bought views or followers) is suspicious:
    # one whose posts fell from its own higher rate is decaying, which the detector reports.
    low_overall = lifetime.views > 0 and lifetime.engagements / lifetime.views < low
    flags = []
    for post_id, post in creator.posts.items():
        counts = post.counts
        if counts.views < settings.band_post_min_views:
            continue
        rate = counts.engagements / counts.views
        excess = counts.engagements - band.median * counts.views
        high = rate > band.median * settings.band_factor and excess >= settings.band_min_excess
        if high or (rate < low and low_overall):
            flags.append(
                Flag(
                    "engagement_out_of_band",
                    post_id,
                    post.posted_at,
                    {
                        "engagement_rate_by_views": round(rate, 5),
                        "band_median": round(band.median, 5),
                        "band_creators": band.creators,
                        "threshold_factor": settings.band_factor,
                    },
                )
            )
    return flags
