"""Event batches with the mess real producers send, and the totals they must add up to."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

COUNTS = ("views", "likes", "comments", "shares", "saves", "clicks")


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@dataclass
class Expected:
    """Totals computed the obvious way: the latest snapshot per post, each spend/conversion once."""

    latest: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    once: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, event: dict[str, Any]) -> None:
        if event["type"] == "post_metrics":
            key = (event["campaign_id"], event["creator_id"], event["post_id"])
            kept = self.latest.get(key)
            if kept is None or event["observed_at"] > kept["observed_at"]:
                self.latest[key] = event
        else:
            self.once.setdefault(event["event_id"], event)

    def totals(self, campaign_id: str, creator_id: str | None = None) -> dict[str, Any]:
        def mine(event: dict[str, Any]) -> bool:
            return event["campaign_id"] == campaign_id and creator_id in (None, event["creator_id"])

        sums: dict[str, Any] = defaultdict(int)
        for snapshot in filter(mine, self.latest.values()):
            for name in COUNTS:
                sums[name] += snapshot[name]
        spend = sum(
            round(e["amount"] * 100) for e in self.once.values() if mine(e) and e["type"] == "spend"
        )
        conversions = [e for e in self.once.values() if mine(e) and e["type"] == "conversion"]
        engagements = sums["likes"] + sums["comments"] + sums["shares"] + sums["saves"]
        return {
            "views": sums["views"],
            "likes": sums["likes"],
            "comments": sums["comments"],
            "shares": sums["shares"],
            "saves": sums["saves"],
            "engagements": engagements,
            "spend_cents": spend,
            "conversions": len(conversions),
            "new_customers": sum(1 for e in conversions if e["new_customer"]),
            "revenue_cents": sum(round(e["revenue"] * 100) for e in conversions),
        }


def messy_campaign(
    campaign_id: str, creators: int, posts: int, seed: int, start: datetime | None = None
) -> tuple[list[dict[str, Any]], Expected]:
    """Snapshots, spend and conversions; duplicated, re-sent, revised and shuffled."""
    rng = random.Random(seed)
    start = start or datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        days=3
    )
    events: list[dict[str, Any]] = []
    for c in range(creators):
        creator_id = f"creator-{c}"
        followers = rng.choice((4_000, 25_000, 180_000))
        for p in range(posts):
            posted = start + timedelta(hours=rng.randint(0, 24))
            post_id = f"{campaign_id}-{creator_id}-post-{p}"
            counts = dict.fromkeys(COUNTS, 0)
            for s in range(5):
                for name in COUNTS:
                    counts[name] += rng.randint(0, 400 if name == "views" else 40)
                if s == 4 and rng.random() < 0.5:
                    counts["likes"] = max(0, counts["likes"] - rng.randint(1, 20))  # revised down
                events.append(
                    {
                        "type": "post_metrics",
                        "event_id": f"{post_id}-snap-{s}",
                        "campaign_id": campaign_id,
                        "creator_id": creator_id,
                        "platform": "instagram",
                        "post_id": post_id,
                        "observed_at": iso(posted + timedelta(hours=4 * (s + 1))),
                        "posted_at": iso(posted),
                        "followers": followers,
                        **counts,
                    }
                )
            events.append(
                {
                    "type": "spend",
                    "event_id": f"{post_id}-fee",
                    "campaign_id": campaign_id,
                    "creator_id": creator_id,
                    "occurred_at": iso(posted),
                    "amount": rng.randint(5_000, 90_000) / 100,
                    "currency": "USD",
                    "kind": "fee",
                }
            )
            for n in range(rng.randint(0, 6)):
                events.append(
                    {
                        "type": "conversion",
                        "event_id": f"{post_id}-order-{n}",
                        "campaign_id": campaign_id,
                        "creator_id": creator_id,
                        "occurred_at": iso(posted + timedelta(hours=rng.randint(1, 20))),
                        "revenue": rng.randint(1_000, 20_000) / 100,
                        "currency": "USD",
                        "new_customer": rng.random() < 0.7,
                        "kind": "purchase",
                        "attribution": rng.choice(("promo_code", "link")),
                    }
                )
    expected = Expected()
    for event in events:
        expected.add(event)
    duplicates = rng.sample(events, k=len(events) // 4)
    messy = events + duplicates
    rng.shuffle(messy)
    return messy, expected


def grow(counts: dict[str, int], views: int, engaged: float) -> None:
    """Add ``views`` and ``engaged`` engagements (mostly likes) to a post's cumulative counts,
    with a click for every hundred views."""
    counts["views"] += views
    counts["likes"] += round(engaged * 0.8)
    counts["comments"] += round(engaged * 0.1)
    counts["shares"] += round(engaged * 0.05)
    counts["saves"] += round(engaged * 0.05)
    counts["clicks"] += round(views * 0.01)


def steady_campaign(
    campaign_id: str,
    creators: int,
    hours: int,
    views_per_hour: int,
    rate: float,
    drop_after: int | None = None,
    rate_after: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Hourly cumulative snapshots of one post per creator, ending now, in event-time order.

    Engagement per view is ``rate`` (times a random ±``noise``), and ``rate_after`` from hour
    ``drop_after`` on: a sudden drop when given, a healthy noisy campaign when not. Each creator
    is paid a fee on the first day and brings a new customer every four hours, so CAC is known.
    The fee is paid six hours in, not at the start: buckets older than two days are six-hour
    blocks aligned to UTC, and a fee at the very start fell into a block that begins before the
    7-day window whenever the start hour was not a multiple of six, leaving the window's CAC
    unknown at most hours of the day.
    """
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    totals = [dict.fromkeys(COUNTS, 0) for _ in range(creators)]
    events: list[dict[str, Any]] = [
        {
            "type": "spend",
            "event_id": f"{campaign_id}-{c}-fee",
            "campaign_id": campaign_id,
            "creator_id": f"creator-{c}",
            "occurred_at": iso(start + timedelta(hours=6)),
            "amount": 500.0,
            "currency": "USD",
            "kind": "fee",
        }
        for c in range(creators)
    ]
    for hour in range(1, hours + 1):
        current = rate_after if drop_after is not None and hour >= drop_after else rate
        for c, counts in enumerate(totals):
            views = round(views_per_hour * rng.uniform(1 - noise, 1 + noise))
            grow(counts, views, views * current * rng.uniform(1 - noise, 1 + noise))
            events.append(
                {
                    "type": "post_metrics",
                    "event_id": f"{campaign_id}-{c}-{hour}",
                    "campaign_id": campaign_id,
                    "creator_id": f"creator-{c}",
                    "platform": "tiktok",
                    "post_id": f"{campaign_id}-post-{c}",
                    "observed_at": iso(start + timedelta(hours=hour)),
                    "posted_at": iso(start),
                    "followers": 30_000,
                    **counts,
                }
            )
            if hour % 4 == c % 4:
                events.append(
                    {
                        "type": "conversion",
                        "event_id": f"{campaign_id}-{c}-order-{hour}",
                        "campaign_id": campaign_id,
                        "creator_id": f"creator-{c}",
                        "occurred_at": iso(start + timedelta(hours=hour)),
                        "revenue": 60.0,
                        "currency": "USD",
                        "new_customer": True,
                        "kind": "purchase",
                        "attribution": "link",
                    }
                )
    return events
