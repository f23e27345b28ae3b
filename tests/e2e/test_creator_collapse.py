"""One creator of sixteen whose engagement per view halves over the last four of fourteen days,
sent over HTTP: that creator's own status is ``decaying`` and an open alert names it, while the
campaign as a whole holds (issue #12)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.e2e.events import COUNTS, iso
from tests.e2e.harness import RunningStack, eventually
from tests.e2e.test_pipeline import send_in_chunks

pytestmark = pytest.mark.e2e

CAMPAIGN = "big-roster"
CREATORS = 16
HOURS = 14 * 24
RAMP_HOURS = 4 * 24
RATE = 0.039
COLLAPSING = "creator-7"


def collapsing_campaign(seed: int = 3) -> list[dict[str, Any]]:
    """Hourly cumulative snapshots of each creator's posts (one every 40-56 hours, its views
    spread over the day and a half after it, each post ±20% better or worse than the creator's
    usual), ending now, in event-time order. ``COLLAPSING``'s engagement per view falls steadily
    from ``RATE`` to half of it over the last ``RAMP_HOURS``; every other creator's holds."""
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=HOURS)
    events: list[tuple[datetime, dict[str, Any]]] = []
    for c in range(CREATORS):
        creator_id = f"creator-{c}"
        posted_hour, post = rng.randint(0, 24), 0
        while posted_hour < HOURS:
            posted = start + timedelta(hours=posted_hour)
            quality = rng.uniform(0.8, 1.2)
            counts = dict.fromkeys(COUNTS, 0)
            for age in range(1, min(36, HOURS - posted_hour) + 1):
                hour = posted_hour + age
                into_ramp = max(0, hour - (HOURS - RAMP_HOURS)) / RAMP_HOURS
                factor = 1 - 0.5 * into_ramp if creator_id == COLLAPSING else 1.0
                views = round(3_000 * 0.93**age * rng.uniform(0.9, 1.1))
                engaged = views * RATE * quality * factor * rng.uniform(0.9, 1.1)
                counts["views"] += views
                counts["likes"] += round(engaged * 0.85)
                counts["comments"] += round(engaged * 0.05)
                counts["shares"] += round(engaged * 0.05)
                counts["saves"] += round(engaged * 0.05)
                counts["clicks"] += round(views * 0.01 * factor)
                observed = posted + timedelta(hours=age)
                event = {
                    "type": "post_metrics",
                    "event_id": f"{CAMPAIGN}-{c}-{post}-{age}",
                    "campaign_id": CAMPAIGN,
                    "creator_id": creator_id,
                    "platform": "instagram",
                    "post_id": f"{CAMPAIGN}-{c}-post-{post}",
                    "observed_at": iso(observed),
                    "posted_at": iso(posted),
                    "followers": 40_000,
                    **counts,
                }
                events.append((observed, event))
            posted_hour += rng.randint(40, 56)
            post += 1
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]


STEP_HOURS = 6
STEPPED_HOURS = 2 * 24


def when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["observed_at"])


def test_a_collapsing_creator_is_decaying_and_named_by_an_open_alert(
    running_stack: RunningStack,
) -> None:
    """The last two days arrive six hours at a time, each step read back once the monitor has
    caught up with it, as a team watching the status page would see them: the creator's own status
    is ``decaying`` at some step, as the evaluation scores a catch. The last hour is not read
    alone: with the creator's newest post a few hours old, its status there depends on where the
    six-hour blocks fall, so on the time of day the test runs."""
    events = collapsing_campaign()
    end = max(when(e) for e in events)
    stepped_from = end - timedelta(hours=STEPPED_HOURS)
    send_in_chunks(running_stack, [e for e in events if when(e) <= stepped_from], size=1_000)
    path = f"/v1/campaigns/{CAMPAIGN}/creators/{COLLAPSING}"

    def creator_as_of(until: datetime) -> dict[str, Any] | None:
        answer = running_stack.api.get(path)
        if answer.status_code != 200:
            return None
        view: dict[str, Any] = answer.json()
        as_of = view["as_of"]
        return view if as_of is not None and datetime.fromisoformat(as_of) >= until else None

    seen: list[dict[str, Any]] = []
    step_end = stepped_from
    while step_end < end:
        step_start, step_end = step_end, min(end, step_end + timedelta(hours=STEP_HOURS))
        step = [e for e in events if step_start < when(e) <= step_end]
        send_in_chunks(running_stack, step, size=1_000)
        mine = [when(e) for e in step if e["creator_id"] == COLLAPSING]
        if mine:
            seen.append(eventually(partial(creator_as_of, max(mine)), timeout=30))

    decaying = [view for view in seen if view["status"] == "decaying"]
    assert decaying, [view["status"] for view in seen]
    (reason,) = decaying[0]["reasons"]
    assert reason["kind"] == "engagement_rate_drop"
    assert reason["relative_change"] < -0.3

    def creator_alerts() -> list[dict[str, Any]]:
        answer = running_stack.api.get("/v1/alerts", params={"creator_id": COLLAPSING})
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    (alert,) = eventually(creator_alerts, timeout=30)
    assert alert["creator_id"] == COLLAPSING
    assert alert["campaign_id"] == CAMPAIGN
    assert alert["cause"] == f"creator:{COLLAPSING}:engagement_rate_drop"
    assert alert["severity"] == "critical"
    assert COLLAPSING in alert["summary"]

    # The campaign as a whole may hold (or be on watch); no other creator is alerted.
    campaign = running_stack.api.get(f"/v1/campaigns/{CAMPAIGN}").json()
    assert campaign["status"] in ("healthy", "watch")
    everything = running_stack.api.get("/v1/alerts", params={"campaign_id": CAMPAIGN}).json()
    assert {a["creator_id"] for a in everything["items"]} == {COLLAPSING}
