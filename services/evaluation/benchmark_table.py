"""`pulse benchmarks`: the tier benchmark table measured on the simulator's campaigns.

Each seed's campaigns are simulated to their end and every event is replayed, in delivery order,
through the same domain code the monitor runs (event validation, idempotent state, the creator
views); the views then go through the same benchmark computation as ``GET /v1/benchmarks``. The
figures describe the simulator's creators (services/simulator/profiles.py), not real ones: the
table shows what the endpoint answers, and how, on data whose make-up is known.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

from services.domain.benchmarks import BenchmarkGroup, Benchmarks, benchmarks
from services.domain.creator_value import CreatorCampaign
from services.domain.events import parse_event
from services.domain.state import CampaignState, CreatorState, apply_event
from services.domain.tiers import DEFAULT_TIER_BOUNDS
from services.domain.views import creator_view
from services.evaluation.harness import ALLOWED_LATENESS, RETENTION, START, write_json
from services.simulator.model import Simulation
from services.simulator.plans import generate_campaigns

STEP = timedelta(days=1)


def simulated_creators(seed: int, campaigns: int, history_days: float) -> list[CreatorCampaign]:
    """Every creator view of one seed's campaigns, simulated until no event is left."""
    plans = generate_campaigns(seed, campaigns, START, timedelta(days=history_days))
    simulation = Simulation(plans, START)
    states: dict[str, CampaignState] = {}
    members: dict[tuple[str, str], CreatorState] = {}
    clock = START
    while not simulation.finished:
        clock += STEP
        for delivery in simulation.advance(clock):
            event = parse_event(delivery.event)
            if isinstance(event, list):
                raise ValueError(f"the simulator produced an invalid event: {event}")
            campaign = states.setdefault(event.campaign_id, CampaignState(event.campaign_id))
            key = (event.campaign_id, event.creator_id)
            creator = members.setdefault(key, CreatorState(*key))
            apply_event(campaign, creator, event, ALLOWED_LATENESS, RETENTION)
    now = datetime.now(UTC)
    rows = []
    for (campaign_id, _), creator in members.items():
        campaign = states[campaign_id]
        # Not assessed here: benchmarks read figures, never statuses.
        view = creator_view(creator, campaign.watermark, "insufficient_data", [], now)
        rows.append(CreatorCampaign(view, campaign.currency, None))
    return rows


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _spread(group: BenchmarkGroup, by_views: bool) -> str:
    spread = group.engagement_rate_by_views if by_views else group.engagement_rate_by_followers
    if spread is None:
        return "-"
    return f"{_percent(spread.median)} ({_percent(spread.p25)}-{_percent(spread.p75)})"


def markdown(table: Benchmarks, currency: str) -> str:
    """The table by tier: rates as median (p25-p75) over creators in campaigns; money pooled in
    ``currency``; and the smallest tier against the largest."""
    lines = [
        f"| tier | creators | posts | ER by views | ER by followers | CPE | CPM | CAC | ROAS "
        f"| engagements per 1,000 {currency} | new customers per 1,000 {currency} |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group in table.groups:
        money = next((m for m in group.money if m.currency == currency), None)
        figures = (
            [
                _number(money.cpe, 3),
                _number(money.cpm),
                _number(money.cac),
                _number(money.roas),
                _number(money.engagements_per_1000, 0),
                _number(money.new_customers_per_1000),
            ]
            if money is not None
            else ["-"] * 6
        )
        lines.append(
            f"| {group.tier} | {group.creators} | {group.posts} | {_spread(group, True)} "
            f"| {_spread(group, False)} | " + " | ".join(figures) + " |"
        )
    comparison = table.small_vs_large
    if comparison is not None:
        lines += [
            "",
            f"{comparison.smaller} against {comparison.larger}: engagement rate by views "
            f"{_number(comparison.engagement_rate_by_views)}x, by followers "
            f"{_number(comparison.engagement_rate_by_followers)}x (ratios of medians); per unit "
            "of spend (pooled):",
        ]
        for ratio in comparison.money:
            lines.append(
                f"- {ratio.currency}: engagements per 1,000 "
                f"{_number(ratio.engagements_per_1000)}x, "
                f"new customers per 1,000 {_number(ratio.new_customers_per_1000)}x, "
                f"ROAS {_number(ratio.roas)}x"
            )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--campaigns", type=int, default=20, help="campaigns per seed")
    parser.add_argument("--history-days", type=float, default=10)
    parser.add_argument("--currency", default="USD", help="the currency of the money columns")
    parser.add_argument("--output", default=".eval/benchmarks.json")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="seeds simulated in parallel"
    )


def _simulated(job: tuple[int, int, float]) -> list[CreatorCampaign]:
    return simulated_creators(*job)


def measure(
    seeds: Sequence[int], campaigns: int, history_days: float, workers: int = 1
) -> Benchmarks:
    jobs = [(seed, campaigns, history_days) for seed in seeds]
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        rows = [row for found in pool.map(_simulated, jobs) for row in found]
    return benchmarks(rows, ["tier"], DEFAULT_TIER_BOUNDS)


def main_from_args(args: argparse.Namespace) -> int:
    table = measure(args.seeds, args.campaigns, args.history_days, args.workers)
    print(
        f"Simulated data: seeds {args.seeds}, {args.campaigns} campaigns each "
        f"(pulse benchmarks --seeds {' '.join(map(str, args.seeds))} "
        f"--campaigns {args.campaigns}).\n"
    )
    print(markdown(table, args.currency))
    write_json(args.output, table.model_dump(mode="json"))
    return 0
