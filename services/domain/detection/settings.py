"""The detector's settings, a campaign's targets, and the constants of its statistical model.

Why each value is what it is (and what else was tried) is in ``docs/detection.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.domain.views import StatusName

Sensitivity = Literal["low", "normal", "high"]
# Multiplies every threshold and minimum drop: "high" sensitivity flags smaller, less certain drops.
SENSITIVITY_SCALE: dict[Sensitivity, float] = {"low": 1.5, "normal": 1.0, "high": 0.7}
# Huber-type bound on a creator's residual in a block, in standard deviations.
MAX_RESIDUAL = 3.0
# Weight, in events at the campaign's pooled rate, of the prior on a creator's baseline rate.
PRIOR_COUNT = 10.0
# Floor of the multiplicative noise ``c`` of a creator's engagements (or clicks) in a block.
RELATIVE_NOISE_FLOOR = 0.1
# A post's views, and so its quality, spread over about a day of blocks.
POST_BLOCKS = 4
# Relative spread of creators' rates around the campaign's pooled rate: the uncertainty of a rate
# that is still mostly prior.
RATE_SPREAD = 0.3
# Relative spread of one post's cost around its creator's usual (boosts add 20-60% to one post in
# twelve; deliverables differ): the noise of the cost test.
COST_NOISE = 0.25
# Floor of the multiplicative noise ``c`` of a creator's conversions in a day.
CONVERSION_NOISE_FLOOR = 0.2
# Median of a chi-square variable with one degree of freedom: turns a median of squared
# standardised residuals into a variance.
CHI2_1_MEDIAN = 0.4549
# The standard normal's 20th percentile.
Z_20 = -0.8416
# The order of statuses: the worst finding sets a campaign's status.
SEVERITY: dict[StatusName, int] = {"insufficient_data": 0, "healthy": 1, "watch": 2, "decaying": 3}


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    block_hours: int = 6
    history_blocks: int = 28
    test_blocks: int = 8
    # Enough history is counted in engagements (the evidence), not views: 400 know the baseline
    # rate to 5%, half the smallest drop that matters.
    min_baseline_engagements: int = 400
    min_baseline_blocks: int = 6
    launch_blocks: int = 4
    engagement_band: float = 0.15
    conversion_band: float = 0.3
    threshold: float = 6.0
    min_engagement_drop: float = 0.1
    min_conversion_drop: float = 0.25
    min_expected_events: float = 20.0
    # One block, however bad, is at most "watch": decaying needs the change to persist.
    min_evidence_blocks: int = 2
    min_baseline_conversions: int = 30
    conversion_settle_blocks: int = 4
    # The conversion test counts days (four blocks), over up to five days back from the
    # settled data, with at least two days of baseline before a change.
    conversion_group_blocks: int = 4
    conversion_test_blocks: int = 20
    min_conversion_baseline_blocks: int = 8
    conversion_view_lag: float = 0.25
    conversion_threshold: float = 4.0
    # The whole-window trend test of conversions per view (0 turns it off).
    conversion_trend_threshold: float = 5.0
    min_trend_days: int = 4
    cac_rise: float = 0.25
    # The cost test (CAC that balloons from spend): spend per post against each creator's own,
    # with a change point up to five days back and at least a day of baseline; spend is known at
    # once, but a post only from its first snapshot, so the current block is left out. h = 4 is
    # the lowest tried that puts no healthy campaign of the tuning seeds even on watch.
    cost_threshold: float = 4.0
    cost_test_blocks: int = 20
    min_cost_baseline_blocks: int = 4
    cost_settle_blocks: int = 1
    min_cost_posts: int = 2
    target_tolerance: float = 0.2
    target_decay: float = 0.5
    min_recent_new_customers: int = 5
    # A creator's own status: its block noise persists through a post's day, not through the
    # whole test segment (see ``drop_test``'s ``post_blocks``).
    noise_per_post_day: bool = False
    # Decaying needs the status as of this many blocks earlier (on the data now known) to have
    # been decaying too: a creator's own status, where one bad post can pass the threshold for
    # a block or two. 0: no such rule (a campaign's; its tests need one block ago not healthy).
    confirm_blocks: int = 0


@dataclass(frozen=True, slots=True)
class CampaignTargets:
    target_cac: float | None = None
    sensitivity: Sensitivity = "normal"


# The defaults of ``detect``: immutable, so one instance of each serves every call.
DEFAULT_SETTINGS = DetectorSettings()
DEFAULT_TARGETS = CampaignTargets()
# The settings of a creator's own status (the detector on one creator).
CREATOR_SETTINGS = DetectorSettings(noise_per_post_day=True, confirm_blocks=1)
