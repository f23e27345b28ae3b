"""Resident memory of a monitor worker holding many campaigns, each with a week of state.

Feeding 10,000 campaigns x 20 creators a week of events through the event topic would take hours,
so the state is made the way a worker would have made it, and handed over the way a worker hands
it over after a rebalance:

1. the simulator's campaigns are replayed through the domain code for ``history_days`` of event
   time, which gives creators with realistic posts, buckets and event ids;
2. those creator states are copied under new campaign and creator ids and written, encoded as the
   worker encodes them, to the worker's changelog topics, on the partition the worker would use;
3. a fresh worker recovers the tables from the changelogs; its resident set size (``VmRSS``) is read
   once every key is loaded (``pulse_monitor_state_keys``) and then for a while as the status
   rounds that follow recovery run.

An empty worker's RSS is measured first, the same way, so the figure per creator is the
difference.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from faust.serializers import codecs
from tqdm import tqdm

from services.bench.scrape import metric_total
from services.domain.state import CampaignState, CreatorState
from services.domain.windows import DAY, HOUR
from services.monitor import codec
from services.monitor.processor import Processor, creator_key
from services.runtime.stack import Stack, StackConfig
from services.runtime.topics import TopicSpec, ensure_topics
from services.simulator.model import Simulation
from services.simulator.plans import generate_campaigns

START = datetime(2026, 3, 2, tzinfo=UTC)
PARTITIONS = 4
LATENESS = 72 * HOUR
RETENTION = 7 * DAY + HOUR


@dataclass
class MemoryResult:
    campaigns: int
    creators_per_campaign: int
    creators_held: int
    empty_worker_rss_mib: float
    loaded_worker_rss_mib: float
    peak_rss_during_status_rounds_mib: float
    state_bytes_per_creator: float
    rss_bytes_per_creator: float
    seconds_to_recover: float


def template_creators(history_days: float, seed: int = 7) -> list[tuple[CreatorState, float]]:
    """Creators with ``history_days`` of simulated event time, as the monitor holds them, each
    with its campaign's watermark."""
    plans = generate_campaigns(seed, 12, START, timedelta(days=history_days))
    simulation = Simulation(plans, START)
    campaigns: dict[str, CampaignState] = {}
    creators: dict[str, CreatorState] = {}
    processor = Processor(campaigns, creators, LATENESS, RETENTION)
    clock, end = START, START + timedelta(days=history_days)
    while clock < end:
        clock += timedelta(hours=6)
        for delivery in simulation.advance(clock):
            result = processor.process(
                str(delivery.event["campaign_id"]).encode(), orjson.dumps(delivery.event)
            )
            if any(outcome == "invalid" for _, outcome in result.outcomes):
                raise ValueError(f"the simulator produced an invalid event: {result.dead_letters}")
    return [
        (creator, campaigns[creator.campaign_id].watermark or 0.0) for creator in creators.values()
    ]


def _changelog(config: StackConfig, table: str) -> str:
    return f"{config.monitor_app_id}-{table}-changelog"


async def _write_state(
    config: StackConfig,
    templates: list[tuple[CreatorState, float]],
    campaigns: int,
    per_campaign: int,
) -> int:
    """Write the copied state to the changelogs; returns the bytes of creator state written."""
    partitioner = DefaultPartitioner()
    partitions = list(range(PARTITIONS))
    written = 0
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap_servers, linger_ms=20)
    deliveries: list[asyncio.Future[object]] = []
    await producer.start()
    try:
        for number in tqdm(range(campaigns), desc="writing state", unit="campaign"):
            campaign_id = f"memory-{number}"
            partition = partitioner(campaign_id.encode(), partitions, partitions)
            creator_ids = [f"creator-{n}" for n in range(per_campaign)]
            watermark = 0.0
            for offset, creator_id in enumerate(creator_ids):
                creator, as_of = templates[(number * per_campaign + offset) % len(templates)]
                creator.campaign_id, creator.creator_id = campaign_id, creator_id
                value = codec.CREATORS.encode(creator)
                written += len(value)
                watermark = max(watermark, as_of)
                delivery = await producer.send(
                    _changelog(config, "creators"),
                    key=codecs.dumps("json", creator_key(campaign_id, creator_id)),
                    value=value,
                    partition=partition,
                )
                deliveries.append(delivery)
            campaign = CampaignState(campaign_id, "USD", watermark, creator_ids)
            delivery = await producer.send(
                _changelog(config, "campaigns"),
                key=codecs.dumps("json", campaign_id),
                value=codec.CAMPAIGNS.encode(campaign),
                partition=partition,
            )
            deliveries.append(delivery)
        # Every record must have been acknowledged, or the worker could not hold them all.
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    return written


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _recovered_creators(config: StackConfig, settle_seconds: int = 10) -> int:
    """The creators the worker holds once recovery has stopped adding any for a while.

    Not the number written: the embedded broker's end offsets can fall short of the records it
    holds, and recovery reads up to those offsets.
    """
    held, unchanged = 0.0, 0
    async with httpx.AsyncClient(timeout=5) as client:
        while unchanged < settle_seconds:
            await asyncio.sleep(1.0)
            try:
                text = (await client.get(config.monitor_metrics_url)).text
                now = metric_total(text, "pulse_monitor_state_keys", table="creators")
            except httpx.HTTPError:
                continue
            unchanged = unchanged + 1 if now == held and now > 0 else 0
            held = now
    return int(held)


def _worker_rss(stack: Stack) -> float:
    return _rss_mib(stack.processes["monitor"].pid)


async def measure_memory(
    config: StackConfig, campaigns: int, per_campaign: int, watch_seconds: float
) -> MemoryResult:
    environment = {"PULSE_MONITOR_PARTITIONS": str(PARTITIONS)}
    config = dataclasses.replace(config, extra_env={**config.extra_env, **environment})
    ensure_topics(
        config.bootstrap_servers,
        [
            TopicSpec(config.events_topic, PARTITIONS),
            *(
                TopicSpec(_changelog(config, table), PARTITIONS, {"cleanup.policy": "compact"})
                for table in ("campaigns", "creators", "configs")
            ),
        ],
    )
    stack = Stack(config)
    try:
        stack.start(services=("monitor",))
        await asyncio.sleep(10)
        empty = _worker_rss(stack)
        stack.stop_service("monitor")

        templates = template_creators(history_days=10)
        state_bytes = await _write_state(config, templates, campaigns, per_campaign)
        started = time.monotonic()
        stack.start(services=("monitor",))
        async with asyncio.timeout(900):
            held = await _recovered_creators(config)
        recovered = time.monotonic() - started - 10
        loaded = _worker_rss(stack)
        peak = loaded
        for _ in range(int(watch_seconds)):
            await asyncio.sleep(1.0)
            peak = max(peak, _worker_rss(stack))
    finally:
        stack.stop()
    creators = campaigns * per_campaign
    return MemoryResult(
        campaigns=campaigns,
        creators_per_campaign=per_campaign,
        creators_held=held,
        empty_worker_rss_mib=empty,
        loaded_worker_rss_mib=loaded,
        peak_rss_during_status_rounds_mib=peak,
        state_bytes_per_creator=state_bytes / creators,
        rss_bytes_per_creator=(loaded - empty) * 1024 * 1024 / held,
        seconds_to_recover=recovered,
    )
