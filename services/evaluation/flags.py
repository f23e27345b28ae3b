"""`pulse eval`: suspicious-engagement flags on the simulator's labelled creators.

Campaigns are generated as for decay detection, then one or two creators of every healthy
campaign take up a labelled behaviour (``services.simulator.fraud_plans``). Their events are
replayed in delivery order through the monitor's domain code (event validation, idempotent state,
the rules run as snapshots are applied); every six hours of simulated time the engagement bands
are measured on all creators and each creator's flags are read as the views show them. Scored
per kind, over creators: a creator is flagged with a kind if it ever was; it is labelled with the
kinds of its behaviour (``services.simulator.fraud.LABELS``), and with ``likes_exceed_views`` when
its behaviour made one of its snapshots report more likes (or engagements) than views.

- precision and recall per kind; the share of honest creators flagged with anything;
- decay caused by a purge: in each campaign with a purge, the campaign's status and the purged
  creator's own status are assessed every two hours from the purge on, on the buckets the
  detector reads (flagged counts left out) and, for comparison, on the raw buckets; each entry
  into ``decaying`` is counted.

Tune on seeds 1-3 only; score on 38-42 (the default), kept apart from tuning.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta

from services.domain.detection import CREATOR_SETTINGS, detect
from services.domain.events import PostMetrics, parse_event
from services.domain.state import CampaignState, CreatorState, apply_event
from services.domain.suspicion import (
    DEFAULT_SUSPICION,
    FLAG_KINDS,
    EngagementBands,
    creator_flags,
    without_flagged,
)
from services.domain.windows import HOUR
from services.evaluation.harness import ALLOWED_LATENESS, RETENTION, START, write_json
from services.simulator.fraud import LABELS
from services.simulator.fraud_plans import with_frauds
from services.simulator.model import EventPayload, Simulation
from services.simulator.plans import CampaignPlan, generate_campaigns

FLAG_EVERY = 6 * HOUR
DECAY_EVERY = 2 * HOUR
SCORING_SEEDS = [38, 39, 40, 41, 42]


@dataclass
class CreatorOutcome:
    seed: int
    campaign_id: str
    creator_id: str
    behaviour: str | None
    labels: list[str]
    flagged: list[str]


@dataclass
class PurgeOutcome:
    seed: int
    campaign_id: str
    creator_id: str
    # Entries into decaying after the purge: [campaign, creator] on the buckets the detector
    # reads, and on the raw buckets.
    decaying: list[int] = field(default_factory=lambda: [0, 0])
    decaying_raw: list[int] = field(default_factory=lambda: [0, 0])


@dataclass
class FlagScores:
    seeds: list[int]
    creators: int
    honest: int
    honest_flagged: int
    honest_flagged_share: float
    by_kind: dict[str, dict[str, float | int]]
    purges: int
    purge_decay_alerts: int
    purge_decay_alerts_raw: int


class _Replay:
    def __init__(self, plans: Sequence[CampaignPlan]) -> None:
        self.plans = {p.campaign_id: p for p in plans}
        self.campaigns: dict[str, CampaignState] = {}
        self.creators: dict[str, dict[str, CreatorState]] = {}
        self.flagged: dict[tuple[str, str], set[str]] = {}
        self.exceeded: set[tuple[str, str]] = set()
        self.bands = EngagementBands(DEFAULT_SUSPICION)
        self.purges = {
            (p.campaign_id, f.creator_id): PurgeOutcome(0, p.campaign_id, f.creator_id)
            for p in plans
            for f in p.frauds
            if f.behaviour == "purge"
        }
        self.previous: dict[tuple[str, str, bool], str] = {}

    def apply(self, raw: EventPayload) -> None:
        event = parse_event(raw)
        if isinstance(event, list):
            raise ValueError(f"the simulator produced an invalid event: {event}")
        campaign = self.campaigns.setdefault(event.campaign_id, CampaignState(event.campaign_id))
        members = self.creators.setdefault(event.campaign_id, {})
        creator = members.setdefault(
            event.creator_id, CreatorState(event.campaign_id, event.creator_id)
        )
        apply_event(campaign, creator, event, ALLOWED_LATENESS, RETENTION)
        if isinstance(event, PostMetrics):
            engaged = max(event.likes, event.likes + event.comments + event.shares + event.saves)
            if engaged > event.views and engaged >= DEFAULT_SUSPICION.likes_over_views_min_likes:
                self.exceeded.add((event.campaign_id, event.creator_id))

    def read_flags(self) -> None:
        everyone = [c for members in self.creators.values() for c in members.values()]
        self.bands.see(everyone)
        for creator in everyone:
            kinds = {f.kind for f in creator_flags(creator, self.bands)}
            if kinds:
                key = (creator.campaign_id, creator.creator_id)
                self.flagged.setdefault(key, set()).update(kinds)

    def assess_purges(self) -> None:
        for (campaign_id, creator_id), outcome in self.purges.items():
            fraud = self.plans[campaign_id].fraud_of(creator_id)
            watermark = (
                self.campaigns[campaign_id].watermark if campaign_id in self.campaigns else None
            )
            if fraud is None or watermark is None or watermark < fraud.start.timestamp():
                continue
            members = list(self.creators[campaign_id].values())
            purged = self.creators[campaign_id][creator_id]
            for unflagged, counts in ((True, outcome.decaying), (False, outcome.decaying_raw)):
                seen = [without_flagged(c) for c in members] if unflagged else members
                own = without_flagged(purged) if unflagged else purged
                statuses = (
                    detect(seen, watermark).status,
                    detect([own], watermark, settings=CREATOR_SETTINGS).status,
                )
                for level, status in enumerate(statuses):
                    key = (campaign_id, f"{level}", unflagged)
                    if status == "decaying" and self.previous.get(key) != "decaying":
                        counts[level] += 1
                    self.previous[key] = status


def replay_seed(
    seed: int, campaigns: int, history_days: float, horizon_days: float
) -> tuple[list[CreatorOutcome], list[PurgeOutcome]]:
    plans = with_frauds(
        generate_campaigns(seed, campaigns, START, timedelta(days=history_days)), seed
    )
    outcomes, purges = replay_plans(plans, horizon_days)
    return (
        [replace(o, seed=seed) for o in outcomes],
        [replace(p, seed=seed) for p in purges],
    )


def replay_plans(
    plans: Sequence[CampaignPlan], horizon_days: float
) -> tuple[list[CreatorOutcome], list[PurgeOutcome]]:
    """Replay ``plans`` for ``horizon_days``: each creator's labels and the kinds it was ever
    flagged with, and the decay statuses entered after each purge."""
    simulation = Simulation(plans, START)
    replay = _Replay(plans)
    clock = START
    end = START + timedelta(days=horizon_days)
    hours = 0
    while clock < end:
        clock += timedelta(hours=1)
        hours += 1
        for delivery in simulation.advance(clock):
            replay.apply(delivery.event)
        if hours % (FLAG_EVERY // HOUR) == 0:
            replay.read_flags()
        if hours % (DECAY_EVERY // HOUR) == 0:
            replay.assess_purges()
    outcomes = []
    for plan in plans:
        for creator in plan.creators:
            key = (plan.campaign_id, creator.creator_id)
            fraud = plan.fraud_of(creator.creator_id)
            labels = set(LABELS[fraud.behaviour]) if fraud is not None else set()
            if fraud is not None and key in replay.exceeded:
                labels.add("likes_exceed_views")
            outcomes.append(
                CreatorOutcome(
                    0,
                    plan.campaign_id,
                    creator.creator_id,
                    fraud.behaviour if fraud is not None else None,
                    sorted(labels),
                    sorted(replay.flagged.get(key, set())),
                )
            )
    return outcomes, list(replay.purges.values())


def score(
    outcomes: Sequence[CreatorOutcome], purges: Sequence[PurgeOutcome], seeds: list[int]
) -> FlagScores:
    honest = [o for o in outcomes if o.behaviour is None]
    honest_flagged = sum(1 for o in honest if o.flagged)
    by_kind: dict[str, dict[str, float | int]] = {}
    for kind in FLAG_KINDS:
        labelled = sum(1 for o in outcomes if kind in o.labels)
        flagged = sum(1 for o in outcomes if kind in o.flagged)
        hits = sum(1 for o in outcomes if kind in o.labels and kind in o.flagged)
        by_kind[kind] = {
            "labelled": labelled,
            "flagged": flagged,
            "true_positives": hits,
            "precision": hits / flagged if flagged else 1.0,
            "recall": hits / labelled if labelled else 1.0,
        }
    return FlagScores(
        seeds=seeds,
        creators=len(outcomes),
        honest=len(honest),
        honest_flagged=honest_flagged,
        honest_flagged_share=honest_flagged / len(honest) if honest else 0.0,
        by_kind=by_kind,
        purges=len(purges),
        purge_decay_alerts=sum(sum(p.decaying) for p in purges),
        purge_decay_alerts_raw=sum(sum(p.decaying_raw) for p in purges),
    )


def report(scores: FlagScores) -> str:
    lines = [
        f"flags, seeds {scores.seeds}: {scores.creators} creators, {scores.honest} honest",
        f"{'kind':<24}{'labelled':>9}{'flagged':>9}{'hits':>6}{'precision':>11}{'recall':>8}",
    ]
    for kind, row in scores.by_kind.items():
        lines.append(
            f"{kind:<24}{row['labelled']:>9}{row['flagged']:>9}{row['true_positives']:>6}"
            f"{row['precision']:>11.3f}{row['recall']:>8.3f}"
        )
    lines += [
        f"honest creators flagged: {scores.honest_flagged} of {scores.honest} "
        f"({scores.honest_flagged_share:.2%})",
        f"decay alerts after a purge ({scores.purges} purges): {scores.purge_decay_alerts} "
        f"(flagged counts left out), {scores.purge_decay_alerts_raw} on the raw counts",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flag-seeds", type=int, nargs="+", default=SCORING_SEEDS)
    parser.add_argument("--flag-campaigns", type=int, default=30, help="campaigns per seed")
    parser.add_argument("--flag-output", default=".eval/flags.json")


def _replay(job: tuple[int, int, float, float]) -> tuple[list[CreatorOutcome], list[PurgeOutcome]]:
    return replay_seed(*job)


def main_from_args(args: argparse.Namespace) -> int:
    jobs = [
        (seed, args.flag_campaigns, args.history_days, args.horizon_days)
        for seed in args.flag_seeds
    ]
    outcomes: list[CreatorOutcome] = []
    purges: list[PurgeOutcome] = []
    with ProcessPoolExecutor(max_workers=max(1, min(args.workers, len(jobs)))) as pool:
        for found, purged in pool.map(_replay, jobs):
            outcomes += found
            purges += purged
    scores = score(outcomes, purges, args.flag_seeds)
    print(report(scores))
    write_json(
        args.flag_output,
        {
            "scores": asdict(scores),
            "creators": [asdict(o) for o in outcomes if o.behaviour or o.flagged],
            "purges": [asdict(p) for p in purges],
        },
    )
    return 0
