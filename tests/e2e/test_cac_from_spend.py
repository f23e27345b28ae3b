"""CAC that balloons from spend, sent over HTTP as a user would: ten creators whose cost per post
rises to about 2.4 times over the last four days while engagement and conversions hold is
reported with a CAC reason naming the creators whose cost rose; a campaign whose fees hold is
not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.events import COUNTS, grow, iso
from tests.e2e.harness import RunningStack, eventually
from tests.e2e.test_pipeline import send_in_chunks

pytestmark = pytest.mark.e2e

DAYS = 9
RISE_DAYS = 4
FINAL_COST = 2.4


def paid_campaign(
    campaign_id: str, creators: int, escalating: int, final_cost: float, seed: int
) -> list[dict[str, Any]]:
    """A post a day per creator, each paid a fee when posted and reported by snapshots every
    four hours for a day and a half, with a new customer for about every 500 views. The first
    ``escalating`` creators' fees rise steadily over the last ``RISE_DAYS`` days to
    ``final_cost`` times their usual; one post in twelve is boosted, as in healthy campaigns."""
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    onset = end - timedelta(days=RISE_DAYS)
    events: list[dict[str, Any]] = []
    for c in range(creators):
        creator_id = f"creator-{c}"
        fee = rng.uniform(200, 600)
        envelope = {"campaign_id": campaign_id, "creator_id": creator_id}
        posted = start + timedelta(hours=rng.uniform(1, 12))
        while posted < end - timedelta(hours=6):
            post_id = f"{campaign_id}-{creator_id}-{posted:%m%d%H}"
            days_in = max(0.0, (posted - onset) / timedelta(days=1))
            cost = final_cost ** (days_in / RISE_DAYS) if c < escalating else 1.0
            events.append(
                envelope
                | {
                    "type": "spend",
                    "event_id": f"{post_id}-fee",
                    "occurred_at": iso(posted),
                    "amount": round(fee * cost, 2),
                    "currency": "USD",
                    "kind": "fee",
                }
            )
            if rng.random() < 1 / 12:
                events.append(
                    envelope
                    | {
                        "type": "spend",
                        "event_id": f"{post_id}-boost",
                        "occurred_at": iso(posted + timedelta(hours=6)),
                        "amount": round(fee * cost * 0.4, 2),
                        "currency": "USD",
                        "kind": "boost",
                    }
                )
            counts = dict.fromkeys(COUNTS, 0)
            observed = posted
            for _ in range(9):
                observed += timedelta(hours=4)
                if observed > end:
                    break
                views = rng.randint(1_500, 2_500)
                grow(counts, views, views * 0.05)
                events.append(
                    envelope
                    | {
                        "type": "post_metrics",
                        "event_id": f"{post_id}-{observed:%m%d%H}",
                        "platform": "instagram",
                        "post_id": post_id,
                        "observed_at": iso(observed),
                        "posted_at": iso(posted),
                        "followers": 40_000,
                        **counts,
                    }
                )
                for n in range(round(views / 500 * rng.uniform(0.7, 1.3))):
                    events.append(
                        envelope
                        | {
                            "type": "conversion",
                            "event_id": f"{post_id}-{observed:%m%d%H}-order-{n}",
                            "occurred_at": iso(observed - timedelta(hours=rng.uniform(0, 4))),
                            "revenue": 60.0,
                            "currency": "USD",
                            "new_customer": True,
                            "kind": "purchase",
                            "attribution": "link",
                        }
                    )
            posted += timedelta(hours=rng.uniform(20, 28))
    return sorted(events, key=lambda e: e.get("observed_at") or e["occurred_at"])


def test_spend_per_post_rising_to_2_4x_is_a_cac_rise(running_stack: RunningStack) -> None:
    escalating = paid_campaign("pricey", creators=10, escalating=7, final_cost=FINAL_COST, seed=4)
    steady = paid_campaign("priced", creators=10, escalating=0, final_cost=1.0, seed=5)
    send_in_chunks(running_stack, escalating, size=1_000)
    send_in_chunks(running_stack, steady, size=1_000)

    def flagged() -> dict[str, Any] | None:
        view = running_stack.campaign("pricey")
        return view if view and view["status"] in ("watch", "decaying") else None

    campaign = eventually(flagged, timeout=60)
    rises = [r for r in campaign["reasons"] if r["kind"] == "cac_rise"]
    assert rises, campaign["reasons"]
    assert rises[0]["relative_change"] > 0.25
    # Only creators 0-6 had their fees raised; the ones whose cost rose most are named.
    named = {c["creator_id"] for c in campaign["contributors"]}
    assert named and named <= {f"creator-{c}" for c in range(7)}, campaign["contributors"]

    # The same campaign with fees that hold is assessed, and healthy with no reason.
    def assessed() -> dict[str, Any] | None:
        view = running_stack.campaign("priced")
        return view if view and view["status"] != "insufficient_data" else None

    steady_view = eventually(assessed, timeout=30)
    assert steady_view["status"] == "healthy", steady_view["reasons"]
    assert steady_view["reasons"] == []
