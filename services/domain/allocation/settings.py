"""The allocator's settings. Why each default is what it is: ``docs/budget-moves.md``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AllocationSettings:
    # A move is proposed only when the posterior probability that it gains exceeds this.
    probability_threshold: float = 0.8
    # How far one creator's weekly spend may move, as a share of its current spend (Robyn's
    # allocator bounds channels the same way).
    max_weekly_change: float = 0.3
    # Posterior draws; the seed keeps one answer per data (the same request gives the same moves).
    draws: int = 2000
    seed: int = 13
    # Prior of a creator's headroom h: the spend at which its response reaches 63% of its
    # ceiling, in multiples of its current spend. One week at one spend level cannot tell the
    # curvature, so it comes from this prior and its spread is carried into every probability.
    headroom_median: float = 1.5
    headroom_sigma: float = 0.4
    # Variance of a creator's weekly new customers over its mean beyond the week's reach (1:
    # Poisson), and the coefficient of variation of one post's reach: a week is a few posts
    # whose views vary a lot, and that luck does not carry over to next week. Creators whose
    # number of posts is unknown count as typical_posts a week.
    count_dispersion: float = 1.0
    post_reach_cv: float = 0.5
    typical_posts: float = 3.0
    # Scales of the half-Cauchy priors on how far creators' rates spread around their tier's,
    # and tiers' around the campaign's (coefficients of variation).
    creator_spread_scale: float = 1.0
    tier_spread_scale: float = 0.5
    # Below this many new customers in the window, or fewer creators with spend, no moves.
    min_new_customers: int = 20
    min_creators: int = 2
    # The greedy search moves this share of the budget per step; moves below min_move_share of
    # the budget are not worth a team's attention and are dropped.
    step_share: float = 0.01
    min_move_share: float = 0.005
    # Quantiles reported as low and high.
    low_quantile: float = 0.1
    high_quantile: float = 0.9
