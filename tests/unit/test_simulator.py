"""The simulator: valid, deterministic, late and messy like platform data, and labelled."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.events import AnyEvent, Conversion, PostMetrics, Spend, parse_event
from services.domain.tiers import tier_of
from services.simulator.model import Delivery, EventPayload, Simulation, post_deliveries
from services.simulator.plans import (
    DECAYING_SCENARIOS,
    HEALTHY_SCENARIOS,
    CampaignPlan,
    generate_campaigns,
    ground_truth,
)
from services.simulator.runner import run_simulation

START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
HISTORY = timedelta(days=10)
SEED = 7


@dataclass(frozen=True)
class Step:
    since: datetime
    until: datetime
    deliveries: list[Delivery]


def parsed(event: EventPayload) -> AnyEvent:
    result = parse_event(event)
    assert not isinstance(result, list), (event, result)
    return result


@dataclass(frozen=True)
class Run:
    campaigns: list[CampaignPlan]
    steps: list[Step]

    @cached_property
    def deliveries(self) -> list[Delivery]:
        return [d for step in self.steps for d in step.deliveries]

    @cached_property
    def events(self) -> list[EventPayload]:
        return [d.event for d in self.deliveries]

    @cached_property
    def items(self) -> list[AnyEvent]:
        return [parsed(event) for event in self.events]

    @cached_property
    def snapshots_by_post(self) -> dict[str, list[PostMetrics]]:
        """Distinct snapshots per post, in the order they were observed."""
        distinct = {e.event_id: e for e in self.items if isinstance(e, PostMetrics)}
        posts: dict[str, list[PostMetrics]] = defaultdict(list)
        for snapshot in distinct.values():
            posts[snapshot.post_id].append(snapshot)
        return {post: sorted(items, key=lambda s: s.observed_at) for post, items in posts.items()}

    @cached_property
    def increments(self) -> list[tuple[str, datetime, int, int, int]]:
        """(creator, observed_at, new views, new engagements, new clicks) per snapshot."""
        found = []
        for snapshots in self.snapshots_by_post.values():
            views = engagements = clicks = 0
            for s in snapshots:
                found.append(
                    (
                        s.creator_id,
                        s.observed_at,
                        s.views - views,
                        s.engagements - engagements,
                        s.clicks - clicks,
                    )
                )
                views, engagements, clicks = s.views, s.engagements, s.clicks
        return found


def simulate(
    seed: int, campaigns: int, history: timedelta, steps: list[timedelta], until: datetime
) -> Run:
    plans = generate_campaigns(seed, campaigns, START, history)
    simulation = Simulation(plans, START)
    done: list[Step] = []
    clock = START
    index = 0
    while clock < until:
        since, clock = clock, min(until, clock + steps[index % len(steps)])
        done.append(Step(since, clock, simulation.advance(clock)))
        index += 1
    return Run(plans, done)


@pytest.fixture(scope="module")
def run() -> Run:
    return simulate(SEED, 12, HISTORY, [timedelta(hours=1)], START + HISTORY + timedelta(days=5))


def rate_change(
    run: Run,
    campaign: CampaignPlan,
    before: tuple[datetime, datetime],
    after: tuple[datetime, datetime],
) -> float:
    """Median over creators of (engagement rate by views after) / (rate before)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    creators = {c.creator_id for c in campaign.creators}
    for creator, at, views, engagements, _ in run.increments:
        if creator not in creators:
            continue
        if before[0] <= at < before[1]:
            totals[creator][0] += engagements
            totals[creator][1] += views
        elif after[0] <= at < after[1]:
            totals[creator][2] += engagements
            totals[creator][3] += views
    ratios = [
        (e2 / v2) / (e1 / v1) for e1, v1, e2, v2 in totals.values() if v1 > 1000 and v2 > 1000
    ]
    assert ratios, campaign.campaign_id
    return statistics.median(ratios)


def two_decimals(amount: object) -> bool:
    return isinstance(amount, float) and Decimal(str(amount)) == round(Decimal(str(amount)), 2)


def test_every_event_validates_and_looks_like_platform_data(run: Run) -> None:
    assert len(run.events) > 10_000
    kinds: set[str] = set()
    for event, item in zip(run.events, run.items, strict=True):
        kinds.add(item.type)
        if isinstance(item, PostMetrics):
            assert str(event["observed_at"]).endswith("Z")
            assert item.observed_at >= item.posted_at
            assert item.likes <= item.views
        elif isinstance(item, Conversion):
            assert two_decimals(event["revenue"])
            assert item.revenue > 0
        else:
            assert two_decimals(event["amount"])
    assert kinds == {"post_metrics", "conversion", "spend"}


def test_one_currency_per_campaign_and_realistic_customers(run: Run) -> None:
    currencies: dict[str, set[str]] = defaultdict(set)
    conversions = [e for e in run.items if isinstance(e, Conversion)]
    for event in run.events:
        if "currency" in event:
            currencies[str(event["campaign_id"])].add(str(event["currency"]))
    assert all(len(codes) == 1 for codes in currencies.values())
    new = sum(1 for c in conversions if c.new_customer)
    assert 0.6 <= new / len(conversions) <= 0.8
    spend_kinds = {e["kind"] for e in run.events if e["type"] == "spend"}
    assert spend_kinds == {"fee", "boost", "product"}


def test_deliveries_respect_the_clock(run: Run) -> None:
    items = iter(run.items)
    for step in run.steps:
        times = [d.deliver_at for d in step.deliveries]
        assert times == sorted(times)
        for delivery in step.deliveries:
            assert step.since < delivery.deliver_at <= step.until
            assert next(items).event_time == delivery.event_time <= step.until


def test_same_seed_same_stream_however_the_clock_steps(run: Run) -> None:
    until = START + timedelta(days=3)
    hourly = [d for d in run.deliveries if d.deliver_at <= until]
    uneven = simulate(SEED, 12, HISTORY, [timedelta(minutes=7), timedelta(hours=9)], until)
    assert [(d.event_id, d.copy, d.event) for d in uneven.deliveries] == [
        (d.event_id, d.copy, d.event) for d in hourly
    ]
    other = simulate(SEED + 1, 12, HISTORY, [timedelta(hours=6)], START + timedelta(days=1))
    assert other.campaigns != run.campaigns
    assert other.events[:100] != run.events[:100]


def test_resent_events_share_id_and_content(run: Run) -> None:
    by_id: dict[str, list[EventPayload]] = defaultdict(list)
    for event in run.events:
        by_id[str(event["event_id"])].append(event)
    resent = [copies for copies in by_id.values() if len(copies) > 1]
    assert 0.005 < len(resent) / len(by_id) < 0.05
    assert all(copy == copies[0] for copies in resent for copy in copies)


def test_snapshots_are_late_out_of_order_and_sometimes_revised(run: Run) -> None:
    delays = [
        d.deliver_at - d.event_time for d in run.deliveries if d.event["type"] == "post_metrics"
    ]
    late = sum(1 for delay in delays if delay >= timedelta(hours=24))
    assert 0.03 < late / len(delays) < 0.2
    assert max(delays) <= timedelta(hours=72)
    assert sorted(delays)[len(delays) // 2] < timedelta(hours=3)

    delivered_order: dict[str, list[datetime]] = defaultdict(list)
    for delivery in run.deliveries:
        if delivery.event["type"] == "post_metrics" and delivery.copy == 0:
            delivered_order[str(delivery.event["post_id"])].append(delivery.event_time)
    assert any(times != sorted(times) for times in delivered_order.values())

    revised = 0
    for snapshots in run.snapshots_by_post.values():
        for earlier, later in itertools.pairwise(snapshots):
            assert later.views >= earlier.views and later.clicks >= earlier.clicks
            revised += later.likes < earlier.likes
    assert revised > 0


def test_decaying_campaigns_lose_engagement_after_onset_and_healthy_ones_do_not(run: Run) -> None:
    day = timedelta(days=1)
    changes: dict[str, list[float]] = defaultdict(list)
    for campaign in run.campaigns:
        onset = campaign.onset or START + 5 * day
        end = campaign.turn or onset + 6 * day
        change = rate_change(run, campaign, (START + day, onset), (onset + day, end))
        changes[campaign.scenario].append(change)
        if campaign.scenario in ("engagement_fatigue", "sudden_drop", "recovering"):
            assert change < 1.0, (campaign.campaign_id, campaign.scenario, change)
        else:
            assert 0.85 < change < 1.15, (campaign.campaign_id, campaign.scenario, change)
    decaying = changes["engagement_fatigue"] + changes["sudden_drop"] + changes["recovering"]
    assert statistics.mean(decaying) < 0.85
    assert max(changes["sudden_drop"]) < 0.7
    steady = changes["healthy"] + changes["micro_healthy"] + changes["cac_creep"]
    assert 0.97 < statistics.mean(steady) < 1.03


def test_cac_creep_keeps_engagement_but_converts_fewer_clicks(run: Run) -> None:
    """Orders per click, against each creator's baseline, fall after the onset."""
    day = timedelta(days=1)
    creeping = [c for c in run.campaigns if c.scenario == "cac_creep"]
    assert creeping
    orders = [e for e in {e.event_id: e for e in run.items}.values() if isinstance(e, Conversion)]
    for campaign in creeping:
        assert campaign.onset is not None
        windows = (
            (START + day, campaign.onset),
            (campaign.onset + 2 * day, campaign.onset + 6 * day),
        )
        baseline = {c.creator_id: c.orders_per_click for c in campaign.creators}
        expected = [0.0, 0.0]
        actual = [0, 0]
        for creator, at, _, _, clicks in run.increments:
            for index, (lo, hi) in enumerate(windows):
                if creator in baseline and lo <= at < hi:
                    expected[index] += clicks * baseline[creator]
        for order in orders:
            for index, (lo, hi) in enumerate(windows):
                if order.creator_id in baseline and lo <= order.occurred_at < hi:
                    actual[index] += 1
        assert actual[1] / expected[1] < 0.9 * actual[0] / expected[0]
        assert rate_change(run, campaign, *windows) > 0.9


def test_smaller_tiers_engage_more_by_views(run: Run) -> None:
    tier_of_creator = {k.creator_id: k.tier for c in run.campaigns for k in c.creators}
    per_creator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for snapshots in run.snapshots_by_post.values():
        last = snapshots[-1]
        per_creator[last.creator_id][0] += last.engagements
        per_creator[last.creator_id][1] += last.views
    rates: dict[str, list[float]] = defaultdict(list)
    for creator, (engagements, views) in per_creator.items():
        rates[tier_of_creator[creator]].append(engagements / views)
    mean = {tier: statistics.mean(values) for tier, values in rates.items()}
    assert mean["nano"] > mean["micro"] > mean["mid"]
    small = statistics.mean(rates["nano"] + rates["micro"])
    assert small > 1.2 * statistics.mean(rates["macro"] + rates["mega"])
    assert 0.05 < mean["nano"] < 0.1
    assert 0.02 < mean["mega"] < 0.06


def test_rosters_have_more_small_creators_than_large(run: Run) -> None:
    creators = [k for c in run.campaigns for k in c.creators]
    assert all(2 <= len(c.creators) <= 25 for c in run.campaigns)
    for campaign in run.campaigns:
        if campaign.scenario == "micro_healthy":
            assert {k.tier for k in campaign.creators} <= {"nano", "micro"}
    assert all(tier_of(k.followers) == k.tier for k in creators)
    small = sum(1 for k in creators if k.tier in ("nano", "micro"))
    large = sum(1 for k in creators if k.tier in ("macro", "mega"))
    assert small > 2 * large
    assert {k.platform for k in creators} == {"instagram", "tiktok", "youtube"}


def test_ground_truth_matches_the_scenarios(run: Run) -> None:
    truth = ground_truth(run.campaigns)
    assert json.loads(json.dumps(truth)) == truth
    assert [t["campaign_id"] for t in truth] == [c.campaign_id for c in run.campaigns]
    scenarios = [t["scenario"] for t in truth]
    assert scenarios.count("healthy") + scenarios.count("micro_healthy") == 7
    assert scenarios.count("micro_healthy") == 1
    # Five decaying campaigns take the decaying scenarios in turn; there are more than five.
    assert set(scenarios) - set(HEALTHY_SCENARIOS) == set(DECAYING_SCENARIOS[:5])
    for entry, campaign in zip(truth, run.campaigns, strict=True):
        assert entry["decays"] == (entry["scenario"] not in HEALTHY_SCENARIOS)
        assert entry["creators"] == len(campaign.creators)
        assert entry["currency"] in ("USD", "EUR", "GBP")
        assert (entry["onset"] is None) == (not entry["decays"])
        assert (entry["recovers_at"] is not None) == (entry["scenario"] == "recovering")
        if entry["onset"] is not None:
            onset = datetime.fromisoformat(entry["onset"])
            assert START + 2 * timedelta(days=1) <= onset <= START + HISTORY
        if entry["recovers_at"] is not None and entry["onset"] is not None:
            assert entry["recovers_at"] > entry["onset"]


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    campaigns=st.integers(min_value=1, max_value=3),
    steps=st.lists(st.integers(min_value=1, max_value=20 * 60), min_size=1, max_size=5),
)
def test_any_seed_gives_valid_events_delivered_on_time(
    seed: int, campaigns: int, steps: list[int]
) -> None:
    result = simulate(
        seed,
        campaigns,
        timedelta(days=3),
        [timedelta(minutes=m) for m in steps],
        START + timedelta(days=3),
    )
    previous = START
    for step in result.steps:
        for delivery in step.deliveries:
            assert previous <= step.since < delivery.deliver_at <= step.until
            assert parsed(delivery.event).event_time <= step.until
        previous = step.until


def _answer(batches: list[list[dict[str, Any]]], failures: int) -> httpx.MockTransport:
    """An ingest stand-in: refuses the first ``failures`` requests, then rejects one event."""
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= failures:
            if calls % 2:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(503, json={"detail": "broker down"})
        batch = json.loads(request.content)
        batches.append(batch)
        rejected = 1 if len(batches) == 1 else 0
        errors = [{"index": 0, "field": "views", "reason": "test"}] if rejected else []
        body = {"accepted": len(batch) - rejected, "rejected": rejected, "errors": errors}
        return httpx.Response(202, json=body)

    return httpx.MockTransport(handle)


async def test_runner_retries_until_ingest_answers_and_never_drops_a_batch(tmp_path: Path) -> None:
    batches: list[list[dict[str, Any]]] = []
    truth = tmp_path / "run" / "truth.json"
    counts = await run_simulation(
        "http://ingest.test/",
        seed=3,
        campaigns=2,
        history=timedelta(hours=30),
        speed=10**6,
        batch_size=50,
        truth_path=truth,
        duration=0.5,
        transport=_answer(batches, failures=2),
    )
    received = [event for batch in batches for event in batch]
    assert counts.sent == len(received) > 0
    assert counts.rejected == 1
    assert counts.accepted == counts.sent - 1
    assert all(len(batch) <= 50 for batch in batches)
    now = datetime.now(UTC)
    assert all(parsed(event).event_time <= now for event in received)
    labels = json.loads(truth.read_text())
    assert [entry["campaign_id"] for entry in labels] == ["sim3-c000", "sim3-c001"]


async def test_runner_gives_up_retrying_only_when_stopped(tmp_path: Path) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    counts = await run_simulation(
        "http://ingest.test",
        seed=3,
        campaigns=1,
        history=timedelta(days=2),
        speed=10**6,
        batch_size=100,
        truth_path=tmp_path / "truth.json",
        stop=stop,
        transport=_answer([], failures=10**6),
    )
    assert counts.sent == counts.accepted == counts.rejected == 0


def _escalating(seed: int) -> CampaignPlan:
    plans = generate_campaigns(seed, 20, START, HISTORY)
    return next(p for p in plans if p.scenario == "cost_escalation")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cost_escalation_raises_the_cost_per_post_and_nothing_else(seed: int) -> None:
    """Fees and boosts escalate from onset: the cost per post, averaged over the creators, has
    risen 25% within one to two days and doubled within five; engagement and orders per click
    hold. The ground truth says when the cost had risen 25%."""
    campaign = _escalating(seed)
    assert campaign.onset is not None
    day = timedelta(days=1)

    def mean_cost(at: datetime) -> float:
        return statistics.mean(campaign.cost_factor(c, at) for c in campaign.creators)

    assert mean_cost(campaign.onset) == 1.0
    assert mean_cost(campaign.onset + 5 * day) >= 2.0
    risen = campaign.cost_risen_at(0.25)
    assert risen is not None and day / 2 <= risen - campaign.onset <= 2 * day
    assert mean_cost(risen) >= 1.25 > mean_cost(risen - timedelta(hours=1))
    truth = next(t for t in ground_truth([campaign]))
    assert truth["cost_risen_at"] == risen.isoformat().replace("+00:00", "Z")
    for creator in campaign.creators:
        for hours in range(0, 24 * 8, 7):
            at = campaign.onset + timedelta(hours=hours)
            assert campaign.engagement_factor(creator, at) == 1.0
            assert campaign.conversion_factor(creator, at) == 1.0


def test_an_escalated_post_is_paid_its_fee_and_boost_times_the_cost_factor() -> None:
    campaign = _escalating(1)
    assert campaign.onset is not None
    creator = campaign.creators[0]
    later = campaign.onset + timedelta(days=3)
    for posted_at, factor in ((campaign.onset, 1.0), (later, campaign.cost_factor(creator, later))):
        # Post index 1: no product, which only goes with a creator's first post.
        paid = [
            parsed(d.event)
            for d in post_deliveries(campaign, creator, 1, posted_at)
            if d.event["type"] == "spend" and d.copy == 0
        ]
        fee = next(p for p in paid if isinstance(p, Spend) and p.kind == "fee")
        assert float(fee.amount) == pytest.approx(creator.fee * factor, abs=0.01)
        for boost in (p for p in paid if isinstance(p, Spend) and p.kind == "boost"):
            assert 0.2 * float(fee.amount) - 0.01 <= float(boost.amount) <= 0.6 * float(fee.amount)
    assert campaign.cost_factor(creator, later) > 1.25


def test_only_a_cost_escalation_is_labelled_with_a_cost_rise() -> None:
    plans = generate_campaigns(1, 20, START, HISTORY)
    assert {p.scenario for p in plans} == set(HEALTHY_SCENARIOS) | set(DECAYING_SCENARIOS)
    for entry, plan in zip(ground_truth(plans), plans, strict=True):
        assert (entry["cost_risen_at"] is not None) == (plan.scenario == "cost_escalation")


def test_a_creator_collapse_halves_one_named_creator_of_a_large_campaign() -> None:
    plans = generate_campaigns(1, 60, START, HISTORY)
    collapses = [p for p in plans if p.scenario == "creator_collapse"]
    assert collapses
    truth = {t["campaign_id"]: t for t in ground_truth(plans)}
    for plan in collapses:
        assert plan.onset is not None and plan.collapsing is not None
        assert len(plan.creators) >= 15
        assert truth[plan.campaign_id]["collapsing_creator"] == plan.collapsing
        # A decline over half a day to three days, not a step, down to half.
        halfway = plan.onset + timedelta(hours=6)
        for creator in plan.creators:
            factor = plan.engagement_factor(creator, halfway)
            settled = plan.engagement_factor(creator, plan.onset + timedelta(days=4))
            if creator.creator_id == plan.collapsing:
                assert 0.5 < factor < 1.0
                assert settled == pytest.approx(0.5)
            else:
                assert factor == settled == 1.0
    assert all(
        t["collapsing_creator"] is None
        for t in truth.values()
        if t["scenario"] != "creator_collapse"
    )
    # Pure and seeded: the same seed names the same creators.
    again = [p.collapsing for p in generate_campaigns(1, 60, START, HISTORY)]
    assert again == [p.collapsing for p in plans]
