"""A seeded model of influencer campaigns that produces the events Campaign Pulse ingests.

Pure: no I/O and no wall clock. Every random draw comes from a ``random.Random`` seeded with a
string naming the simulation seed and the thing it describes (a campaign, a creator's schedule, a
post), so one post's events do not depend on how the clock was stepped.

Realism (figures from DOMAIN-NOTES): engagement rate by views falls with follower tier, from about
6.5% for nano accounts (Captiv8: Instagram <10K, 6.23% by impressions) to about 4.2% for mega
accounts (Captiv8: TikTok >1.5M, 4.95% by views, with the TikTok multiplier); views per follower
fall with size too, so the rate by followers runs from ~2.3% (nano; HypeAuditor 2023/2026: 2.78%
and 1.78%) down to ~0.6% (mega; HypeAuditor: 1.54% in 2018, 0.33% in 2026), a 3-4x gap ("micro
creators get 2-5x the engagement of celebrities"). Snapshots come every few hours for 7-10 days
(Sprinklr: every 4 h for 10 days) and arrive late: usually an hour or two, sometimes 24-48 h
(Later, TikTok) or 36-70 h on YouTube (Brandwatch: 36-72 h; kept inside the monitor's 72 h
allowed lateness). Some snapshots are re-sent and some revise likes down (fake likes removed).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict, TypeVar

Scenario = Literal[
    "healthy",
    "micro_healthy",
    "engagement_fatigue",
    "sudden_drop",
    "cac_creep",
    "recovering",
    "creator_collapse",
    "cost_escalation",
]
Platform = Literal["instagram", "tiktok", "youtube"]
T = TypeVar("T")
EventPayload = dict[str, str | int | float | bool]

SCENARIOS: tuple[Scenario, ...] = (
    "healthy",
    "micro_healthy",
    "engagement_fatigue",
    "sudden_drop",
    "cac_creep",
    "recovering",
    "creator_collapse",
    "cost_escalation",
)
HEALTHY_SCENARIOS: tuple[Scenario, ...] = SCENARIOS[:2]
DECAYING_SCENARIOS: tuple[Scenario, ...] = SCENARIOS[2:]
HEALTHY_SHARE = 0.6
# One healthy campaign in four is a noisy micro-creator campaign: a few nano and micro creators,
# few views, so every hour is sparse and a single post moves the campaign's rates.
MICRO_EVERY = 4
MICRO_TIERS = ("nano", "micro")
# One creator of a large campaign collapses: its engagement per view halves over half a day to
# three days. It is one of the roster's larger half (by engagements a post): a creator with a few
# dozen engagements a post has too little data for a status of its own (insufficient_data).
COLLAPSE_MIN_CREATORS = 15
COLLAPSE_DROP = 0.5
COLLAPSE_DAYS = (0.5, 3.0)

# Fees and boosts escalate: each creator's cost per post grows by the campaign's growth per day
# times its susceptibility, so the campaign's rises 25% in about one to one and a half days and
# doubles in three to five, capped where a real campaign would have stopped paying.
COST_GROWTH_PER_DAY = (0.15, 0.3)
COST_FACTOR_CAP = 4.0
# The rise of the cost per post from which a CAC reason is due (the detector's minimum CAC rise).
COST_RISE_LABELLED = 0.25

DAY = timedelta(days=1)
FACTOR_FLOOR = 0.3
# Every delivery, re-sends included, lands inside the monitor's default 72 h allowed lateness.
MAX_DELAY = timedelta(hours=71)


@dataclass(frozen=True)
class TierProfile:
    """How creators of one follower tier look: share of a roster, size, engagement and reach."""

    weight: float
    followers: tuple[int, int]
    er_by_views: float
    views_per_follower: float
    fee_cpm_usd: tuple[float, float]
    product_share: float


# Tier bounds follow services.domain.tiers.DEFAULT_TIER_BOUNDS (Mediakix / HypeAuditor).
TIERS: dict[str, TierProfile] = {
    "nano": TierProfile(0.36, (1_000, 10_000), 0.065, 0.35, (6.0, 15.0), 0.6),
    "micro": TierProfile(0.30, (10_000, 50_000), 0.056, 0.30, (6.0, 15.0), 0.4),
    "mid": TierProfile(0.22, (50_000, 500_000), 0.049, 0.24, (8.0, 18.0), 0.1),
    "macro": TierProfile(0.07, (500_000, 1_000_000), 0.045, 0.19, (8.0, 20.0), 0.0),
    "mega": TierProfile(0.05, (1_000_000, 8_000_000), 0.042, 0.15, (10.0, 22.0), 0.0),
}


@dataclass(frozen=True)
class PlatformProfile:
    """Platform differences: reach, engagement mix, link clicks, decay speed and data lateness."""

    weight: float
    reach: float
    engagement: float
    mix: tuple[float, float, float, float]
    click_through: tuple[float, float]
    decay_days: tuple[float, float]
    late_share: float
    late_hours: tuple[float, float]


PLATFORMS: dict[Platform, PlatformProfile] = {
    "instagram": PlatformProfile(
        0.45, 1.0, 1.0, (0.86, 0.04, 0.05, 0.05), (0.006, 0.012), (0.4, 1.0), 0.08, (24, 48)
    ),
    "tiktok": PlatformProfile(
        0.35, 2.0, 1.18, (0.84, 0.03, 0.07, 0.06), (0.004, 0.010), (0.3, 0.8), 0.10, (24, 48)
    ),
    "youtube": PlatformProfile(
        0.20, 0.7, 0.75, (0.92, 0.05, 0.03, 0.0), (0.008, 0.020), (0.8, 1.8), 0.12, (36, 70)
    ),
}

CURRENCIES: dict[str, tuple[float, float]] = {
    "USD": (0.70, 1.0),
    "EUR": (0.20, 0.92),
    "GBP": (0.10, 0.79),
}

# Monday first. Views peak at the weekend; engagement per view moves only a little.
WEEKDAY_VIEWS = (0.96, 0.98, 1.0, 1.0, 0.98, 1.04, 1.06)
WEEKDAY_ENGAGEMENT = (1.0, 1.01, 1.01, 1.0, 0.98, 0.99, 1.01)

DUPLICATE_SHARE = 0.02
REVISED_POST_SHARE = 0.05
BOOSTED_POST_SHARE = 0.08


@dataclass(frozen=True)
class CreatorPlan:
    creator_id: str
    platform: Platform
    tier: str
    followers: int
    follower_growth_per_day: float
    er_by_views: float
    views_per_post: float
    click_through: float
    orders_per_click: float
    fee: float
    product_value: float
    cadence: timedelta
    snapshot_every: timedelta
    susceptibility: float


@dataclass(frozen=True)
class CampaignPlan:
    """One campaign and its labelled behaviour.

    ``onset`` is when the decline starts; for ``recovering`` the decline stops at ``turn`` and the
    rate is back at its baseline at ``recovers_at``; for ``creator_collapse`` only the creator
    ``collapsing`` declines, by half at ``decline_per_day``.
    """

    seed: int
    campaign_id: str
    scenario: Scenario
    currency: str
    start: datetime
    end: datetime
    onset: datetime | None
    turn: datetime | None
    recovers_at: datetime | None
    decline_per_day: float
    drop: float
    order_value: float
    new_customer_share: float
    promo_code_share: float
    creators: tuple[CreatorPlan, ...]
    collapsing: str | None = None
    cost_growth_per_day: float = 0.0

    def _declined(self, creator: CreatorPlan, onset: datetime, at: datetime) -> float:
        rate = min(0.5, self.decline_per_day * creator.susceptibility)
        return max(FACTOR_FLOOR, math.pow(1.0 - rate, (at - onset) / DAY))

    def engagement_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Engagement per view at ``at`` relative to the creator's baseline."""
        if self.onset is None or at <= self.onset:
            return 1.0
        if self.scenario == "engagement_fatigue":
            return self._declined(creator, self.onset, at)
        if self.scenario == "sudden_drop":
            return 1.0 - min(0.8, self.drop * creator.susceptibility)
        if self.scenario == "recovering" and self.turn is not None and self.recovers_at is not None:
            if at >= self.recovers_at:
                return 1.0
            low = self._declined(creator, self.onset, min(at, self.turn))
            if at <= self.turn:
                return low
            return low + (1.0 - low) * ((at - self.turn) / (self.recovers_at - self.turn))
        if self.scenario == "creator_collapse" and creator.creator_id == self.collapsing:
            return max(1.0 - COLLAPSE_DROP, 1.0 - self.decline_per_day * ((at - self.onset) / DAY))
        return 1.0

    def cost_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Cost per post (fee and boost) at ``at`` relative to the creator's baseline."""
        if self.scenario != "cost_escalation" or self.onset is None or at <= self.onset:
            return 1.0
        growth = 1.0 + self.cost_growth_per_day * creator.susceptibility
        return min(COST_FACTOR_CAP, math.pow(growth, (at - self.onset) / DAY))

    def cost_risen_at(self, rise: float) -> datetime | None:
        """When the cost per post, averaged over the creators, first rose by ``rise`` (to the
        hour after onset); None if it never does."""
        if self.onset is None:
            return None
        at = self.onset
        while at < self.end:
            if sum(self.cost_factor(c, at) for c in self.creators) >= len(self.creators) * (
                1.0 + rise
            ):
                return at
            at += timedelta(hours=1)
        return None

    def conversion_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Orders per click at ``at`` relative to the creator's baseline."""
        if self.scenario == "cac_creep" and self.onset is not None and at > self.onset:
            return self._declined(creator, self.onset, at)
        return 1.0


class CampaignTruth(TypedDict):
    campaign_id: str
    scenario: Scenario
    decays: bool
    onset: str | None
    recovers_at: str | None
    creators: int
    currency: str
    # The creator whose collapse is labelled (creator_collapse), else None.
    collapsing_creator: str | None
    # When the cost per post, averaged over the creators, had risen COST_RISE_LABELLED
    # (cost_escalation), else None: a CAC reason is due within 48 h of it.
    cost_risen_at: str | None


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


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _lognormal(rng: random.Random, sigma: float) -> float:
    """A multiplicative noise factor with median 1."""
    return rng.lognormvariate(0.0, sigma)


def _money(amount: float) -> float:
    return round(max(amount, 0.01), 2)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold = math.exp(-mean)
    count, product = 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _pick(rng: random.Random, options: dict[T, float]) -> T:
    return rng.choices(list(options), weights=list(options.values()))[0]


def _creator(
    rng: random.Random, creator_id: str, currency_rate: float, tiers: Sequence[str] = tuple(TIERS)
) -> CreatorPlan:
    tier = _pick(rng, {name: TIERS[name].weight for name in tiers})
    profile = TIERS[tier]
    platform = _pick(rng, {name: p.weight for name, p in PLATFORMS.items()})
    venue = PLATFORMS[platform]
    low, high = profile.followers
    followers = int(math.exp(rng.uniform(math.log(low), math.log(high - 1))))
    views_per_post = followers * profile.views_per_follower * venue.reach * _lognormal(rng, 0.35)
    fee_usd = max(25.0, views_per_post / 1000 * rng.uniform(*profile.fee_cpm_usd))
    gets_product = rng.random() < profile.product_share
    return CreatorPlan(
        creator_id=creator_id,
        platform=platform,
        tier=tier,
        followers=followers,
        follower_growth_per_day=rng.uniform(0.0005, 0.003),
        er_by_views=profile.er_by_views * venue.engagement * _lognormal(rng, 0.2),
        views_per_post=views_per_post,
        click_through=rng.uniform(*venue.click_through),
        orders_per_click=rng.uniform(0.02, 0.05) * _lognormal(rng, 0.25),
        fee=round(fee_usd * currency_rate / 5) * 5.0,
        product_value=_money(rng.uniform(30, 150) * currency_rate) if gets_product else 0.0,
        cadence=timedelta(hours=rng.uniform(24, 72)),
        snapshot_every=timedelta(hours=rng.choice((3, 4, 4, 6))),
        susceptibility=rng.uniform(0.6, 1.4),
    )


def _scenarios(rng: random.Random, count: int) -> list[Scenario]:
    healthy = round(HEALTHY_SHARE * count)
    chosen: list[Scenario] = [
        "micro_healthy" if i % MICRO_EVERY == MICRO_EVERY - 1 else "healthy" for i in range(healthy)
    ]
    chosen += [DECAYING_SCENARIOS[i % len(DECAYING_SCENARIOS)] for i in range(count - healthy)]
    rng.shuffle(chosen)
    return chosen


def generate_campaigns(
    seed: int, count: int, start: datetime, history: timedelta
) -> list[CampaignPlan]:
    """``count`` campaigns starting in the first hours after ``start``.

    Onsets fall 40-65% of the way through ``history`` (at least two days in, so each campaign has
    a baseline), so a caller that replays ``history`` up to now sees every change happen. Campaigns
    keep posting for one to three weeks after the history ends.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = random.Random(f"{seed}:campaigns")
    plans = []
    for index, scenario in enumerate(_scenarios(rng, count)):
        campaign_id = f"sim{seed}-c{index:03d}"
        crng = random.Random(f"{seed}:{campaign_id}")
        currency = _pick(crng, {code: share for code, (share, _) in CURRENCIES.items()})
        rate = CURRENCIES[currency][1]
        begin = _seconds(start) + timedelta(seconds=crng.randint(1, 6 * 3600))
        if scenario == "micro_healthy":
            creators = tuple(
                _creator(crng, f"{campaign_id}-cr{j:02d}", rate, MICRO_TIERS)
                for j in range(crng.randint(2, 8))
            )
        else:
            smallest = COLLAPSE_MIN_CREATORS if scenario == "creator_collapse" else 3
            creators = tuple(
                _creator(crng, f"{campaign_id}-cr{j:02d}", rate)
                for j in range(crng.randint(smallest, 25))
            )
        onset = turn = recovers_at = None
        if scenario not in HEALTHY_SCENARIOS:
            lead = max(2 * DAY, history * crng.uniform(0.4, 0.65))
            onset = _seconds(begin + lead)
        if scenario == "recovering" and onset is not None:
            turn = _seconds(onset + timedelta(days=crng.uniform(1.5, 3.0)))
            recovers_at = _seconds(turn + timedelta(days=crng.uniform(1.0, 2.0)))
        # Relative decline per day: fatigue loses a third of its engagement in three to five days,
        # CAC creep roughly doubles CAC in four to six.
        decline = {
            "engagement_fatigue": (0.08, 0.14),
            "recovering": (0.08, 0.12),
            "cac_creep": (0.12, 0.18),
        }.get(scenario, (0.0, 0.0))
        collapsing = _collapsing(crng, creators) if scenario == "creator_collapse" else None
        plans.append(
            CampaignPlan(
                seed=seed,
                campaign_id=campaign_id,
                scenario=scenario,
                currency=currency,
                start=begin,
                end=_seconds(begin + history + timedelta(days=crng.uniform(7, 21))),
                onset=onset,
                turn=turn,
                recovers_at=recovers_at,
                decline_per_day=(
                    crng.uniform(*decline)
                    if collapsing is None
                    else COLLAPSE_DROP / crng.uniform(*COLLAPSE_DAYS)
                ),
                drop=crng.uniform(0.4, 0.6) if scenario == "sudden_drop" else 0.0,
                order_value=crng.uniform(35, 120) * rate,
                new_customer_share=crng.uniform(0.6, 0.8),
                promo_code_share=crng.uniform(0.3, 0.5),
                creators=creators,
                collapsing=collapsing,
                cost_growth_per_day=(
                    crng.uniform(*COST_GROWTH_PER_DAY) if scenario == "cost_escalation" else 0.0
                ),
            )
        )
    return plans


def _collapsing(rng: random.Random, creators: Sequence[CreatorPlan]) -> str:
    """The creator that collapses: one of the larger half of the roster by engagements a post."""
    ranked = sorted(creators, key=lambda c: c.views_per_post * c.er_by_views, reverse=True)
    return rng.choice(ranked[: max(1, len(ranked) // 2)]).creator_id


def ground_truth(campaigns: Sequence[CampaignPlan]) -> list[CampaignTruth]:
    """The labels a detector is scored against, one entry per campaign."""
    return [
        CampaignTruth(
            campaign_id=c.campaign_id,
            scenario=c.scenario,
            decays=c.scenario not in HEALTHY_SCENARIOS,
            onset=rfc3339(c.onset) if c.onset else None,
            recovers_at=rfc3339(c.recovers_at) if c.recovers_at else None,
            creators=len(c.creators),
            currency=c.currency,
            collapsing_creator=c.collapsing,
            cost_risen_at=(
                rfc3339(risen) if (risen := c.cost_risen_at(COST_RISE_LABELLED)) else None
            ),
        )
        for c in campaigns
    ]


def _snapshot_delay(rng: random.Random, venue: PlatformProfile) -> timedelta:
    if rng.random() < venue.late_share:
        return timedelta(hours=rng.uniform(*venue.late_hours))
    return timedelta(hours=min(12.0, 1.5 * _lognormal(rng, 0.7)))


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
        deliver_at = _seconds(at + delay) + timedelta(seconds=1)
        self.deliveries.append(Delivery(deliver_at, event_id, 0, at, event))
        if self.rng.random() < DUPLICATE_SHARE:
            again = deliver_at + timedelta(minutes=self.rng.uniform(10, 720))
            again = max(deliver_at, min(again, at + MAX_DELAY))
            self.deliveries.append(Delivery(_seconds(again), event_id, 1, at, dict(event)))

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
            "amount": _money(amount),
            "currency": self.campaign.currency,
            "kind": kind,
        }
        self._deliver(event_id, at, timedelta(hours=self.rng.uniform(0.25, 6)), event)

    def conversions(self, since: datetime, until: datetime, clicks: float) -> None:
        campaign, creator, rng = self.campaign, self.creator, self.rng
        middle = since + (until - since) / 2
        expected = clicks * creator.orders_per_click * campaign.conversion_factor(creator, middle)
        span = (until - since).total_seconds()
        for _ in range(_poisson(rng, expected)):
            at = _seconds(since + timedelta(seconds=rng.uniform(1, span)))
            promo = rng.random() < campaign.promo_code_share
            event_id = f"{self.post_id}-o{self.orders:04d}"
            self.orders += 1
            event = self._envelope("conversion", event_id) | {
                "occurred_at": rfc3339(at),
                "revenue": _money(campaign.order_value * _lognormal(rng, 0.4)),
                "currency": campaign.currency,
                "new_customer": rng.random() < campaign.new_customer_share,
                "kind": "purchase",
                "attribution": "promo_code" if promo else "link",
            }
            delay = (
                timedelta(hours=rng.uniform(1, 24))
                if promo
                else timedelta(minutes=min(360.0, 15 * _lognormal(rng, 0.8)))
            )
            self._deliver(event_id, at, delay, event)

    def build(self, posted_at: datetime) -> list[Delivery]:
        campaign, creator, rng = self.campaign, self.creator, self.rng
        venue = PLATFORMS[creator.platform]
        boosted = rng.random() < BOOSTED_POST_SHARE
        total_views = creator.views_per_post * _lognormal(rng, 0.45) * (1.3 if boosted else 1.0)
        post_quality = _lognormal(rng, 0.1)
        decay = timedelta(days=rng.uniform(*venue.decay_days))
        horizon = posted_at + timedelta(days=rng.uniform(7, 10))

        fee = creator.fee * campaign.cost_factor(creator, posted_at)
        self.spend("fee", posted_at, fee, "fee")
        if boosted:
            boost_at = _seconds(posted_at + timedelta(hours=rng.uniform(3, 24)))
            self.spend("boost", boost_at, fee * rng.uniform(0.2, 0.6), "boost")
        if self.post_index == 0 and creator.product_value > 0:
            self.spend("product", posted_at, creator.product_value, "product")

        times: list[datetime] = []
        at = posted_at + creator.snapshot_every * rng.uniform(0.15, 1.0)
        while at <= horizon:
            times.append(_seconds(at))
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
            new_views = total_views * (shown - shown_before) * _lognormal(rng, 0.1)
            new_views *= WEEKDAY_VIEWS[weekday]
            factor = campaign.engagement_factor(creator, middle)
            rate = creator.er_by_views * post_quality * factor * WEEKDAY_ENGAGEMENT[weekday]
            engaged = new_views * rate * _lognormal(rng, 0.08)
            mix = venue.mix
            views += new_views
            likes += engaged * mix[0] * _lognormal(rng, 0.05)
            comments += engaged * mix[1] * _lognormal(rng, 0.2)
            shares += engaged * mix[2] * _lognormal(rng, 0.2)
            saves += engaged * mix[3] * _lognormal(rng, 0.2)
            new_clicks = new_views * creator.click_through * factor * _lognormal(rng, 0.1)
            clicks += new_clicks
            self.conversions(previous, observed_at, new_clicks)

            if index == revised_at and round(likes) > 0:
                cut = max(round(likes) - reported_likes + 1, round(likes * rng.uniform(0.02, 0.06)))
                removed_likes = min(round(likes), removed_likes + cut)
            reported_likes = round(likes) - removed_likes
            days_running = (observed_at - campaign.start) / DAY
            followers = creator.followers * (1 + creator.follower_growth_per_day * days_running)
            event_id = f"{self.post_id}-s{index:03d}"
            event = self._envelope("post_metrics", event_id) | {
                "platform": creator.platform,
                "post_id": self.post_id,
                "observed_at": rfc3339(observed_at),
                "posted_at": rfc3339(posted_at),
                "followers": round(followers),
                "views": round(views),
                "likes": reported_likes,
                "comments": round(comments),
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


def _schedule(campaigns: Sequence[CampaignPlan]) -> list[_PostSlot]:
    slots = []
    for c_index, campaign in enumerate(campaigns):
        for k_index, creator in enumerate(campaign.creators):
            rng = random.Random(f"{campaign.seed}:{creator.creator_id}:schedule")
            at = campaign.start + timedelta(hours=rng.uniform(1, 36))
            post_index = 0
            while at < campaign.end:
                slots.append(_PostSlot(_seconds(at), c_index, k_index, post_index))
                post_index += 1
                at += creator.cadence * rng.uniform(0.8, 1.2)
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
