"""Use cases of the creator and benchmark routes: read the stored creator views, hand them to the
pure computations in ``services.domain``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.domain.benchmarks import Benchmarks, Dimension, benchmarks
from services.domain.creator_ranking import GammaPrior, RankedCreator, RankingFilter, rank_creators
from services.domain.creator_value import CreatorProfile, creator_profile
from services.domain.tiers import TierBounds
from services.storage.repository import StatusRepository


def profile_of(
    repository: StatusRepository, creator_id: str, tier_bounds: TierBounds
) -> CreatorProfile | None:
    """The creator across every campaign they worked on; None when no campaign has them."""
    rows = repository.creator_campaigns(creator_id=creator_id)
    if not rows:
        return None
    return creator_profile(creator_id, rows, tier_bounds)


def ranking(
    repository: StatusRepository, selection: RankingFilter, tier_bounds: TierBounds
) -> tuple[list[RankedCreator], list[GammaPrior]]:
    """Every creator ranked; the priors are fitted on everyone, so the whole table is read."""
    return rank_creators(repository.creator_campaigns(), selection, tier_bounds)


def benchmark_table(
    repository: StatusRepository,
    by: Sequence[Dimension],
    tier_bounds: TierBounds,
    campaign_id: str | None,
    since: datetime | None,
) -> Benchmarks:
    rows = repository.creator_campaigns(campaign_id=campaign_id, since=since)
    return benchmarks(rows, by, tier_bounds, campaign_id, since)
