"""The simulation: the events each planned post causes (snapshots, spend, conversions) and when
they reach ingest, driven by a simulated clock. Plans are in ``plans``, how creators and platforms
look in ``profiles``.

Pure: no I/O and no wall clock. Every random draw comes from a ``random.Random`` seeded with a
string naming the simulation seed and the thing it describes (a campaign, a creator's schedule, a
post), so one post's events do not depend on how the clock was stepped.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.simulator.draws import lognormal, money, poisson, rfc3339, whole_seconds
from services.simulator.plans import DAY, MAX_DELAY, CampaignPlan, CreatorPlan
from services.simulator.profiles import (
    BOOSTED_POST_SHARE,
    DUPLICATE_SHARE,
    PLATFORMS,
    REVISED_POST_SHARE,
    WEEKDAY_ENGAGEMENT,
    WEEKDAY_VIEWS,
    PlatformProfile,
)

EventPayload = dict[str, str | int | float | bool]


@dataclass(frozen=True, order=True)
class Delivery:
    """An event and the simulated time it reaches the ingest service."""

    deliver_at: datetime
    event_id: str
    copy: int
    event_time: datetime = field(compare=False)
    event: EventPayload = field(compare=False)


@dataclass(frozen=True, order=True)
class _PostSlot:
    posted_at: datetime
    campaign_index: int
    creator_index: int
    post_index: int


def _snapshot_delay(rng: random.Random, venue: PlatformProfile) -> timedelta:
    if rng.random() < venue.late_share:
        return timedelta(hours=rng.uniform(*venue.late_hours))
    return timedelta(hours=min(12.0, 1.5 * lognormal(rng, 0.7)))


class _PostBuilder:
    """Collects one post's deliveries: snapshots, spend and the conversions it drives."""

    def __init__(self, campaign: CampaignPlan, creator: CreatorPlan, post_index: int) -> None:
        self.campaign = campaign
        self.creator = creator
        self.post_id = f"{creator.creator_id}-p{post_index:03d}"
        self.post_index = post_index
        self.rng = random.Random(f"{campaign.seed}:{self.post_id}")
        self.deliveries: list[Delivery] = []
        self.orders = 0

    def _deliver(self, event_id: str, at: datetime, delay: timedelta, event: EventPayload) -> None:
        deliver_at = whole_seconds(at + delay) + timedelta(seconds=1)
        self.deliveries.append(Delivery(deliver_at, event_id, 0, at, event))
        if self.rng.random() < DUPLICATE_SHARE:
            again = deliver_at + timedelta(minutes=self.rng.uniform(10, 720))
            again = max(deliver_at, min(again, at + MAX_DELAY))
            self.deliveries.append(Delivery(whole_seconds(again), event_id, 1, at, dict(event)))

    def _envelope(self, event_type: str, event_id: str) -> EventPayload:
        return {
            "type": event_type,
            "event_id": event_id,
            "campaign_id": self.campaign.campaign_id,
            "creator_id": self.creator.creator_id,
        }

    def spend(self, suffix: str, at: datetime, amount: float, kind: str) -> None:
        event_id = f"{self.post_id}-{suffix}"
        event = self._envelope("spend", event_id) | {
            "occurred_at": rfc3339(at),
            "amount": money(amount),
            "currency": self.campaign.currency,
            "kind": kind,
        }
        self._deliver(event_id, at, timedelta(hours=self.rng.uniform(0.25, 6)), event)

    def conversions(self, since: datetime, until: datetime, clicks: float) -> None:
        campaign, creator, rng = self.campaign, self.creator, self.rng
        middle = since + (until - since) / 2
        expected = clicks * creator.orders_per_click * campaign.conversion_factor(creator, middle)
        span = (until - since).total_seconds()
        for _ in range(poisson(rng, expected)):
            at = whole_seconds(since + timedelta(seconds=rng.uniform(1, span)))
            promo = rng.random() < campaign.promo_code_share
            event_id = f"{self.post_id}-o{self.orders:04d}"
            self.orders += 1
            event = self._envelope("conversion", event_id) | {
                "occurred_at": rfc3339(at),
                "revenue": money(campaign.order_value * lognormal(rng, 0.4)),
                "currency": campaign.currency,
                "new_customer": rng.random() < campaign.new_customer_share,
                "kind": "purchase",
                "attribution": "promo_code" if promo else "link",
            }
            delay = (
                timedelta(hours=rng.uniform(1, 24))
                if promo
                else timedelta(minutes=min(360.0, 15 * lognormal(rng, 0.8)))
            )
            self._deliver(event_id, at, delay, event)

    def build(self, posted_at: datetime) -> list[Delivery]:
        campaign, creator, rng = self.campaign, self.creator, self.rng
        venue = PLATFORMS[creator.platform]
        fraud = campaign.fraud_of(creator.creator_id)
        boosted = rng.random() < BOOSTED_POST_SHARE
        total_views = creator.views_per_post * lognormal(rng, 0.45) * (1.3 if boosted else 1.0)
        if fraud is not None:
            total_views *= fraud.views_factor(self.post_index)
        post_quality = lognormal(rng, 0.1)
        decay = timedelta(days=rng.uniform(*venue.decay_days))
        horizon = posted_at + timedelta(days=rng.uniform(7, 10))

        fee = creator.fee * campaign.cost_factor(creator, posted_at)
        self.spend("fee", posted_at, fee, "fee")
        if boosted:
            boost_at = whole_seconds(posted_at + timedelta(hours=rng.uniform(3, 24)))
            self.spend("boost", boost_at, fee * rng.uniform(0.2, 0.6), "boost")
        if self.post_index == 0 and creator.product_value > 0:
            self.spend("product", posted_at, creator.product_value, "product")

        times: list[datetime] = []
        at = posted_at + creator.snapshot_every * rng.uniform(0.15, 1.0)
        while at <= horizon:
            times.append(whole_seconds(at))
            at += creator.snapshot_every * rng.uniform(0.9, 1.1)
        revised_at = (
            rng.randrange(len(times) // 3, len(times))
            if len(times) >= 3 and rng.random() < REVISED_POST_SHARE
            else -1
        )

        views = likes = comments = shares = saves = clicks = 0.0
        removed_likes = reported_likes = 0
        previous = posted_at
        for index, observed_at in enumerate(times):
            middle = previous + (observed_at - previous) / 2
            weekday = middle.weekday()
            shown = 1.0 - math.exp(-((observed_at - posted_at) / decay))
            shown_before = 1.0 - math.exp(-((previous - posted_at) / decay))
            new_views = total_views * (shown - shown_before) * lognormal(rng, 0.1)
            new_views *= WEEKDAY_VIEWS[weekday]
            factor = campaign.engagement_factor(creator, middle)
            rate = creator.er_by_views * post_quality * factor * WEEKDAY_ENGAGEMENT[weekday]
            engaged = new_views * rate * lognormal(rng, 0.08)
            mix = venue.mix
            views += new_views
            likes += engaged * mix[0] * lognormal(rng, 0.05)
            comments += engaged * mix[1] * lognormal(rng, 0.2)
            shares += engaged * mix[2] * lognormal(rng, 0.2)
            saves += engaged * mix[3] * lognormal(rng, 0.2)
            new_clicks = new_views * creator.click_through * factor * lognormal(rng, 0.1)
            clicks += new_clicks
            self.conversions(previous, observed_at, new_clicks)

            if index == revised_at and round(likes) > 0:
                cut = max(round(likes) - reported_likes + 1, round(likes * rng.uniform(0.02, 0.06)))
                removed_likes = min(round(likes), removed_likes + cut)
            reported_likes = round(likes) - removed_likes
            days_running = (observed_at - campaign.start) / DAY
            followers = creator.followers * (1 + creator.follower_growth_per_day * days_running)
            extra_likes = extra_comments = extra_views = 0
            if fraud is not None:
                extra_views = fraud.extra_views(posted_at, observed_at)
                extra_likes = fraud.extra_likes(
                    self.post_index, posted_at, observed_at, likes, total_views
                )
                extra_comments = fraud.extra_comments(posted_at, observed_at)
                followers += fraud.extra_followers(observed_at)
            event_id = f"{self.post_id}-s{index:03d}"
            event = self._envelope("post_metrics", event_id) | {
                "platform": creator.platform,
                "post_id": self.post_id,
                "observed_at": rfc3339(observed_at),
                "posted_at": rfc3339(posted_at),
                "followers": round(followers),
                "views": round(views) + extra_views,
                "likes": reported_likes + extra_likes,
                "comments": round(comments) + extra_comments,
                "shares": round(shares),
                "saves": round(saves),
                "clicks": round(clicks),
            }
            self._deliver(event_id, observed_at, _snapshot_delay(rng, venue), event)
            previous = observed_at
        return self.deliveries


def post_deliveries(
    campaign: CampaignPlan, creator: CreatorPlan, post_index: int, posted_at: datetime
) -> list[Delivery]:
    """Every delivery one post causes; none is delivered before ``posted_at``."""
    return _PostBuilder(campaign, creator, post_index).build(posted_at)


def post_times(campaign: CampaignPlan, creator: CreatorPlan) -> list[datetime]:
    """When the creator posts during the campaign, in order (post index = position)."""
    rng = random.Random(f"{campaign.seed}:{creator.creator_id}:schedule")
    at = campaign.start + timedelta(hours=rng.uniform(1, 36))
    times = []
    while at < campaign.end:
        times.append(whole_seconds(at))
        at += creator.cadence * rng.uniform(0.8, 1.2)
    return times


def _schedule(campaigns: Sequence[CampaignPlan]) -> list[_PostSlot]:
    slots = [
        _PostSlot(posted_at, c_index, k_index, post_index)
        for c_index, campaign in enumerate(campaigns)
        for k_index, creator in enumerate(campaign.creators)
        for post_index, posted_at in enumerate(post_times(campaign, creator))
    ]
    slots.sort()
    return slots


class Simulation:
    """Events in the order they reach ingest, driven by a simulated clock.

    ``advance(until)`` returns the deliveries due in ``(clock, until]`` sorted by delivery time and
    moves the clock to ``until``. A delivery never precedes its event time, so nothing returned
    happened after ``until``. The stream is the same however the clock is stepped.
    """

    def __init__(self, campaigns: Sequence[CampaignPlan], start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if any(c.start < start for c in campaigns):
            raise ValueError("every campaign must start at or after the simulation start")
        self._campaigns = tuple(campaigns)
        self._slots = _schedule(self._campaigns)
        self._next_slot = 0
        self._pending: list[Delivery] = []
        self._clock = start

    @property
    def clock(self) -> datetime:
        return self._clock

    @property
    def finished(self) -> bool:
        return self._next_slot >= len(self._slots) and not self._pending

    def advance(self, until: datetime) -> list[Delivery]:
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        if until <= self._clock:
            return []
        while (
            self._next_slot < len(self._slots) and self._slots[self._next_slot].posted_at <= until
        ):
            slot = self._slots[self._next_slot]
            campaign = self._campaigns[slot.campaign_index]
            creator = campaign.creators[slot.creator_index]
            for delivery in post_deliveries(campaign, creator, slot.post_index, slot.posted_at):
                heapq.heappush(self._pending, delivery)
            self._next_slot += 1
        due = []
        while self._pending and self._pending[0].deliver_at <= until:
            due.append(heapq.heappop(self._pending))
        self._clock = until
        return due
