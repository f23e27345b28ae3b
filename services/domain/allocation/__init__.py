"""Budget moves: each creator's response of new customers to spend (a saturating curve with
diminishing returns), fitted with partial pooling toward its tier and campaign, and moves of
spend between creators taken only where the posterior says they gain.

The modules: ``settings``, ``response`` (the curve on posterior draws), ``fitting`` (the
hierarchical gamma-Poisson fit), ``allocator`` (the greedy search and the moves) and
``recommendation`` (what is answered). The method for a statistician: ``docs/budget-moves.md``.
"""

from services.domain.allocation.allocator import CreatorInput, recommend
from services.domain.allocation.inputs import creator_input
from services.domain.allocation.recommendation import (
    CreatorAllocation,
    Interval,
    Move,
    Recommendation,
)
from services.domain.allocation.settings import AllocationSettings

__all__ = [
    "AllocationSettings",
    "CreatorAllocation",
    "CreatorInput",
    "Interval",
    "Move",
    "Recommendation",
    "creator_input",
    "recommend",
]
