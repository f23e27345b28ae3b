"""What the allocator answers: per creator its marginal CAC and proposed spend, and the moves.

These models are the body of ``GET /v1/campaigns/{campaign_id}/recommendations`` and of the
``budget.moves`` webhook event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Interval(_Model):
    """A posterior summary: ``low`` and ``high`` are the 10th and 90th percentiles."""

    low: float
    mid: float
    high: float


class CreatorAllocation(_Model):
    creator_id: str
    tier: str
    platform: str | None
    status: str
    current_spend: float = Field(description="Spend over the last seven days of event time.")
    new_customers: int = Field(description="New customers over the same seven days.")
    proposed_spend: float = Field(description="Spend proposed for the next seven days.")
    marginal_cac: Interval | None = Field(
        description="Spend per extra new customer at the current spend; null without spend."
    )
    receives_budget: bool = Field(description="False for decaying or flagged creators.")
    note: str | None = Field(description="Why the creator gets no budget or has no estimate.")


class Move(_Model):
    from_creator_id: str | None = Field(
        description="Null when a target CAC adds budget rather than moving it."
    )
    to_creator_id: str | None = Field(
        description="Null when a target CAC releases budget rather than moving it."
    )
    amount: float
    currency: str | None
    expected_new_customers: Interval = Field(
        description="Change in next week's new customers the move is expected to bring."
    )
    probability: float = Field(
        description="Posterior probability that the move gains (with a target CAC: that it "
        "is worth its cost at the target)."
    )
    reason: str


class Recommendation(_Model):
    campaign_id: str
    currency: str | None
    as_of: datetime | None
    mode: Literal["fixed_budget", "target_cac"]
    target_cac: float | None
    budget: float = Field(description="Spend over the last seven days: next week's budget.")
    proposed_budget: float
    probability_threshold: float
    max_weekly_change: float
    creators: list[CreatorAllocation]
    moves: list[Move]
    reason: str | None = Field(description="Why there are no moves, when there are none.")
