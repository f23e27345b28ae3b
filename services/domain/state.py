"""Per-campaign and per-creator state, and the idempotent rules that update it.

Exactness under at-least-once delivery comes from here, not from the transport:

- a post contributes its latest snapshot (greatest ``observed_at``); an older or equal snapshot
  changes nothing, a newer one adds only its difference to the last one (which may be negative when
  a platform revises counts down);
- spend, conversions and conversion reversals count once per ``event_id``: the ids live in the
  bucket they were counted in for as long as the allowed lateness, so a redelivered event is
  always recognised;
- a reversal takes back revenue and the new customer, never more than the creator has counted
  (the producer caps it per order; this only keeps the totals from going below zero);
- an event older than the campaign's watermark minus the allowed lateness is refused (its bucket no
  longer remembers what was counted) and goes to the dead-letter topic.

Buckets are hourly for the last two days and six-hourly before that (``windows.bucket_key``); a
creator's buckets are settled (hours merged into blocks) after each event it applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from services.domain.buckets import Bucket, bucket_rows, buckets_from
from services.domain.compiled_events import (
    ConversionEvent,
    ConversionReversalEvent,
    PostMetricsEvent,
    SpendEvent,
    StreamEvent,
)
from services.domain.counters import Counters
from services.domain.events import Conversion, ConversionReversal, PostMetrics, Spend
from services.domain.suspicion.flag import Flag
from services.domain.suspicion.follower_rules import Reading
from services.domain.suspicion.observe import observe_followers, observe_snapshot
from services.domain.suspicion.settings import DEFAULT_SUSPICION, SuspicionSettings
from services.domain.windows import BLOCK, HOUR, block_start, bucket_key, bucket_start, hourly_from


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Applied:
    outcome: Outcome
    reason: str = ""
    field: str = ""


APPLIED = Applied(Outcome.APPLIED)
DUPLICATE = Applied(Outcome.DUPLICATE)


@dataclass(slots=True)
class PostSnapshot:
    observed_at: float
    posted_at: float
    followers: int
    counts: Counters

    @property
    def engagement_rate_by_followers(self) -> float | None:
        return self.counts.engagements / self.followers if self.followers else None


@dataclass(slots=True)
class CampaignState:
    campaign_id: str
    currency: str | None = None
    watermark: float | None = None
    creator_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "currency": self.currency,
            "watermark": self.watermark,
            "creator_ids": self.creator_ids,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CampaignState:
        return cls(
            campaign_id=data["campaign_id"],
            currency=data["currency"],
            watermark=data["watermark"],
            creator_ids=list(data["creator_ids"]),
        )


@dataclass(slots=True)
class CreatorState:
    campaign_id: str
    creator_id: str
    platform: str | None = None
    followers: int = 0
    followers_observed_at: float = 0.0
    lifetime: Counters = field(default_factory=Counters)
    posts: dict[str, PostSnapshot] = field(default_factory=dict)
    buckets: dict[int, Bucket] = field(default_factory=dict)
    settled_to: int = 0
    # When the newest-arriving snapshot of this creator's reached Kafka (its message timestamp; 0:
    # not known), for the views' freshness. The processor sets it: apply_event has no message.
    received_at: float = 0.0
    # Suspicious engagement (services.domain.suspicion): a few follower readings, each with the
    # lifetime views then, and the flags found, each with the counts the detector leaves out.
    follower_readings: list[Reading] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def bucket(self, at: float, watermark: float | None) -> Bucket:
        start = bucket_key(at, watermark)
        found = self.buckets.get(start)
        if found is None:
            found = self.buckets[start] = Bucket()
        return found

    def has_counted(self, event_id: str, at: float) -> bool:
        # The id is in its hour's bucket, or in its block once the hour was merged.
        for start in (bucket_start(at), block_start(at)):
            found = self.buckets.get(start)
            if found is not None and found.remembers(event_id):
                return True
        return False

    def settle(self, watermark: float, retention: float, allowed_lateness: float) -> None:
        """Merge hours past the hourly horizon into blocks, drop what is past the retention and
        forget event ids past the allowed lateness; a no-op until the horizon moves a block on."""
        horizon = hourly_from(watermark)
        if horizon <= self.settled_to:
            return
        self.settled_to = horizon
        keep_from = block_start(watermark - retention)
        forget_before = watermark - allowed_lateness
        settled: dict[int, Bucket] = {}
        for start, bucket in sorted(self.buckets.items()):
            if start < keep_from:
                continue
            if start + BLOCK <= forget_before:
                bucket.event_ids = None
            key = start if start >= horizon else block_start(start)
            merged = settled.get(key)
            if merged is None:
                settled[key] = bucket
            else:
                merged.absorb(bucket)
        self.buckets = settled
        self.flags = [f for f in self.flags if f.since >= keep_from]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "creator_id": self.creator_id,
            "platform": self.platform,
            "followers": self.followers,
            "followers_observed_at": self.followers_observed_at,
            "lifetime": self.lifetime.to_list(),
            "posts": {
                post_id: [p.observed_at, p.posted_at, p.followers, p.counts.to_list()]
                for post_id, p in self.posts.items()
            },
            "buckets": bucket_rows(self.buckets),
            "settled_to": self.settled_to,
            "received_at": self.received_at,
            "follower_readings": [list(reading) for reading in self.follower_readings],
            "flags": [flag.to_list() for flag in self.flags],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CreatorState:
        return cls(
            campaign_id=data["campaign_id"],
            creator_id=data["creator_id"],
            platform=data["platform"],
            followers=data["followers"],
            followers_observed_at=data["followers_observed_at"],
            lifetime=Counters.from_list(data["lifetime"]),
            posts={
                post_id: PostSnapshot(observed, posted, followers, Counters.from_list(counts))
                for post_id, (observed, posted, followers, counts) in data["posts"].items()
            },
            buckets=buckets_from(data["buckets"]),
            settled_to=data.get("settled_to", 0),
            received_at=data.get("received_at", 0.0),
            # State written before suspicious engagement was flagged has neither.
            follower_readings=[
                (at, followers, views) for at, followers, views in data.get("follower_readings", [])
            ],
            flags=[Flag.from_list(row) for row in data.get("flags", [])],
        )


# An event arrives as the contract's pydantic model or as the monitor's compiled struct (same
# fields and properties); the rules accept either.
Snapshot = PostMetrics | PostMetricsEvent
Once = (
    Conversion | ConversionEvent | Spend | SpendEvent | ConversionReversal | ConversionReversalEvent
)
Reversal = ConversionReversal | ConversionReversalEvent
# The same as tuples, the compiled struct first: isinstance with a tuple is the cheaper check.
SNAPSHOT_TYPES = (PostMetricsEvent, PostMetrics)
SPEND_TYPES = (SpendEvent, Spend)
CONVERSION_TYPES = (ConversionEvent, Conversion)


def _snapshot_counts(event: Snapshot) -> Counters:
    return Counters(
        views=event.views,
        likes=event.likes,
        comments=event.comments,
        shares=event.shares,
        saves=event.saves,
        clicks=event.clicks,
    )


def _difference(new: Counters, old: Counters) -> Counters:
    return Counters(
        views=new.views - old.views,
        likes=new.likes - old.likes,
        comments=new.comments - old.comments,
        shares=new.shares - old.shares,
        saves=new.saves - old.saves,
        clicks=new.clicks - old.clicks,
    )


def _too_late(allowed_lateness: float, time_field: str) -> Applied:
    """An event older than the campaign's watermark minus the allowed lateness."""
    hours = allowed_lateness / HOUR
    return Applied(
        Outcome.REJECTED,
        f"more than {hours:g} h behind the campaign's latest event (allowed lateness)",
        time_field,
    )


def apply_event(
    campaign: CampaignState,
    creator: CreatorState,
    event: StreamEvent,
    allowed_lateness: float,
    retention: float,
    suspicion: SuspicionSettings = DEFAULT_SUSPICION,
) -> Applied:
    """Apply one validated event to its campaign's and creator's state, idempotently; a post
    snapshot also runs the suspicious-engagement rules (``suspicion``)."""
    currency: str | None = None
    if isinstance(event, SNAPSHOT_TYPES):
        at = event.observed_at.timestamp()
        result = _apply_snapshot(campaign, creator, event, at, allowed_lateness, suspicion)
    else:
        currency = event.currency
        if campaign.currency is not None and campaign.currency != currency:
            return Applied(
                Outcome.REJECTED,
                f"{currency} differs from the campaign's currency {campaign.currency}",
                "currency",
            )
        at = event.occurred_at.timestamp()
        result = _apply_once(campaign, creator, event, at, allowed_lateness)
    if result is not APPLIED:
        return result
    if currency is not None:
        campaign.currency = currency
    watermark = campaign.watermark
    if watermark is None or at > watermark:
        watermark = campaign.watermark = at
    if creator.creator_id not in campaign.creator_ids:
        campaign.creator_ids.append(creator.creator_id)
    if hourly_from(watermark) > creator.settled_to:
        creator.settle(watermark, retention, allowed_lateness)
    return result


def _apply_snapshot(
    campaign: CampaignState,
    creator: CreatorState,
    event: Snapshot,
    at: float,
    allowed_lateness: float,
    suspicion: SuspicionSettings,
) -> Applied:
    previous = creator.posts.get(event.post_id)
    if previous is not None and at <= previous.observed_at:
        return DUPLICATE
    if campaign.watermark is not None and at < campaign.watermark - allowed_lateness:
        return _too_late(allowed_lateness, "observed_at")
    counts = _snapshot_counts(event)
    delta = counts if previous is None else _difference(counts, previous.counts)
    observe_snapshot(
        creator.flags,
        event.post_id,
        at,
        previous.counts if previous is not None else None,
        counts,
        delta,
        creator.lifetime,
        suspicion,
    )
    creator.posts[event.post_id] = PostSnapshot(
        observed_at=at,
        posted_at=event.posted_at.timestamp(),
        followers=event.followers,
        counts=counts,
    )
    creator.lifetime.add(delta)
    creator.bucket(at, campaign.watermark).counters.add(delta)
    creator.platform = event.platform
    if at >= creator.followers_observed_at:
        creator.followers = event.followers
        creator.followers_observed_at = at
        reading = (at, event.followers, creator.lifetime.views)
        observe_followers(creator.flags, creator.follower_readings, reading, suspicion)
    return APPLIED


def _apply_once(
    campaign: CampaignState,
    creator: CreatorState,
    event: Once,
    at: float,
    allowed_lateness: float,
) -> Applied:
    if creator.has_counted(event.event_id, at):
        return DUPLICATE
    if campaign.watermark is not None and at < campaign.watermark - allowed_lateness:
        return _too_late(allowed_lateness, "occurred_at")
    if isinstance(event, SPEND_TYPES):
        delta = Counters(spend_micros=event.amount_micros)
    elif isinstance(event, CONVERSION_TYPES):
        delta = Counters(
            conversions=1,
            new_customers=int(event.new_customer),
            revenue_micros=event.revenue_micros,
        )
    else:
        delta = _reversal(creator.lifetime, event)
    bucket = creator.bucket(at, campaign.watermark)
    bucket.counters.add(delta)
    bucket.remember(event.event_id)
    if delta.conversions:
        newest = at if campaign.watermark is None else max(at, campaign.watermark)
        bucket.record_arrival((block_start(newest) - block_start(at)) // BLOCK)
    creator.lifetime.add(delta)
    return APPLIED


def _reversal(lifetime: Counters, event: Reversal) -> Counters:
    """What a reversal takes back: its revenue and new customer, within what the creator has."""
    new_customer = event.new_customer and lifetime.new_customers > 0
    return Counters(
        new_customers=-int(new_customer),
        revenue_micros=-min(event.revenue_micros, max(lifetime.revenue_micros, 0)),
    )
