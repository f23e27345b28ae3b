"""`pulse bench`: throughput and latency of the real services on one broker, in one run.

1. ingest: post-metric events over HTTP in batches of 500, acknowledged by the broker;
2. raw: aiokafka reads and JSON-decodes the same events from the event topic (the ceiling);
   Faust floor: a bare Faust agent with the monitor's consumer settings does the same
   (``faust_floor``), which is what Faust alone leaves of that ceiling;
   peer: the same per-creator aggregation in quixstreams, and its own client's raw rate
   (``quix_peer``);
3. monitor: a worker started on the full topic, processing until every event is counted, with
   changelogs and database snapshots on;
4. API: campaign status requests at a steady rate from a second process (``api_load``), once the
   monitor has written every campaign's snapshot;
5. end-to-end latency: events offered at a steady rate; probe snapshots timed from ingest's 202 to
   being visible in the API;
6. memory: a fresh worker recovering 10,000 campaigns x 20 creators with a week of state
   (``memory``; ``--memory-campaigns 0`` skips it).

Each phase's figure is set against its target from the performance issue in the printed table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.bench.api_load import ApiLoadResult, percentile
from services.bench.memory import measure_memory
from services.bench.peer import measure_peer
from services.bench.report import BenchResult, table
from services.bench.scrape import metric_total
from services.runtime.broker import EmbeddedBroker
from services.runtime.stack import Stack, StackConfig

BENCH_CAMPAIGNS = 200
MEMORY_WATCH_SECONDS = 30
MEMORY_CREATORS_PER_CAMPAIGN = 20


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def synthetic_events(campaigns: int, creators: int, total: int) -> list[dict[str, Any]]:
    """Cumulative snapshots of posts spread over campaigns and creators, all distinct."""
    start = datetime.now(UTC) - timedelta(days=2)
    events: list[dict[str, Any]] = []
    snapshots_per_post = 10
    n = 0
    while len(events) < total:
        campaign = n % campaigns
        creator = (n // campaigns) % creators
        post = n // (campaigns * creators)
        posted = start + timedelta(minutes=post)
        for s in range(snapshots_per_post):
            views = 1000 * (s + 1)
            events.append(
                {
                    "type": "post_metrics",
                    "event_id": f"b{campaign}-{creator}-{post}-{s}",
                    "campaign_id": f"bench-{campaign}",
                    "creator_id": f"creator-{creator}",
                    "platform": "tiktok",
                    "post_id": f"p{campaign}-{creator}-{post}",
                    "observed_at": _iso(posted + timedelta(hours=s + 1)),
                    "posted_at": _iso(posted),
                    "followers": 20_000 + creator,
                    "views": views,
                    "likes": views // 20,
                    "comments": views // 200,
                    "shares": views // 500,
                    "saves": views // 400,
                    "clicks": views // 100,
                }
            )
        n += 1
    return events[:total]


async def _post_all(
    url: str,
    events: list[dict[str, Any]],
    batch: int,
    concurrency: int,
    headers: dict[str, str],
) -> float:
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for item in batches:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = orjson.dumps(queue.get_nowait())
            response = await client.post(
                "/v1/events", content=body, headers={"content-type": "application/json"}
            )
            response.raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return len(events) / (time.perf_counter() - started)


async def _raw_consume(bootstrap: str, topic: str, expected: int) -> tuple[float, int]:
    """Events/s, and how many Kafka messages held the events."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=64 * 1024 * 1024
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = messages_seen = 0
        started = time.perf_counter()
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for messages in batches.values():
                messages_seen += len(messages)
                for message in messages:
                    decoded = orjson.loads(message.value or b"[]")
                    seen += len(decoded) if isinstance(decoded, list) else 1
        return seen / (time.perf_counter() - started), messages_seen
    finally:
        await consumer.stop()


async def _faust_floor(bootstrap: str, topic: str, expected: int, run_dir: Path) -> float:
    output = run_dir / f"faust-floor-{uuid.uuid4().hex[:8]}.txt"
    command = [sys.executable, "-m", "services.bench.faust_floor", "--bootstrap", bootstrap]
    command += ["--topic", topic, "--expected", str(expected), "--output", str(output)]
    process = await asyncio.create_subprocess_exec(*command)
    async with asyncio.timeout(300):
        await process.wait()
    return float(output.read_text())


async def _monitor_rate(metrics_url: str, expected: int) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        first: tuple[float, float] | None = None
        # The last reading before any event was counted: when a fast worker counts everything
        # between two readings, the rate from it is a lower bound, not a division by zero.
        idle_at = time.perf_counter()
        while True:
            try:
                counted = metric_total((await client.get(metrics_url)).text, "pulse_monitor_events")
            except httpx.HTTPError:
                counted = 0.0
            now = time.perf_counter()
            if counted <= 0:
                idle_at = now
            elif first is None:
                first = (now, counted)
            if counted >= expected and first is not None:
                if now > first[0]:
                    return (counted - first[1]) / (now - first[0])
                return counted / (now - idle_at)
            # Coarse on purpose: exposing metrics costs the monitor CPU.
            await asyncio.sleep(0.5)


async def _latency(
    config: StackConfig,
    rate: float,
    seconds: float,
    filler: list[dict[str, Any]],
    headers: dict[str, str],
) -> list[float]:
    tick = 0.1
    per_tick = max(1, int(rate * tick))
    accepted: dict[int, float] = {}
    latencies: list[float] = []
    posted = datetime.now(UTC) - timedelta(hours=1)
    done = asyncio.Event()

    def probe(k: int) -> dict[str, Any]:
        return {
            "type": "post_metrics",
            "event_id": f"probe-{k}",
            "campaign_id": "bench-probe",
            "creator_id": "probe",
            "platform": "tiktok",
            "post_id": "probe-post",
            "observed_at": _iso(posted + timedelta(seconds=k + 1)),
            "posted_at": _iso(posted),
            "followers": 1000,
            "views": k + 1,
            "likes": 0,
            "comments": 0,
            "shares": 0,
            "saves": 0,
            "clicks": 0,
        }

    async def watch(api: httpx.AsyncClient) -> None:
        while not done.is_set() or accepted:
            response = await api.get("/v1/campaigns/bench-probe")
            now = time.perf_counter()
            if response.status_code == 200:
                views = response.json()["totals"]["views"]
                for k in [k for k in accepted if k + 1 <= views]:
                    latencies.append(now - accepted.pop(k))
            await asyncio.sleep(0.005)

    async with (
        httpx.AsyncClient(base_url=config.ingest_url, timeout=30, headers=headers) as ingest,
        httpx.AsyncClient(base_url=config.api_url, timeout=30, headers=headers) as api,
    ):
        watcher = asyncio.create_task(watch(api))
        started = time.perf_counter()
        k = 0
        cursor = 0
        while time.perf_counter() - started < seconds:
            batch = filler[cursor : cursor + per_tick - 1]
            cursor += per_tick - 1
            body = orjson.dumps([*batch, probe(k)])
            response = await ingest.post(
                "/v1/events", content=body, headers={"content-type": "application/json"}
            )
            response.raise_for_status()
            accepted[k] = time.perf_counter()
            k += 1
            next_tick = started + k * tick
            await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
        done.set()
        await asyncio.wait_for(watcher, timeout=30)
    return latencies


async def _wait_for_snapshots(api_url: str, campaigns: int, headers: dict[str, str]) -> None:
    """Wait until the API lists at least ``campaigns`` campaigns."""
    async with httpx.AsyncClient(base_url=api_url, timeout=5, headers=headers) as client:
        while True:
            response = await client.get("/v1/campaigns", params={"limit": 1})
            if response.status_code == 200 and response.json()["total"] >= campaigns:
                return
            await asyncio.sleep(0.5)


async def _api_load(
    api_url: str, campaign_ids: list[str], rate: float, seconds: float, api_key: str
) -> ApiLoadResult:
    """Campaign status requests from a second process, so that the client's own work is not
    done on the API's event loop nor counted in its process."""
    campaigns = [arg for campaign_id in campaign_ids for arg in ("--campaign", campaign_id)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.bench.api_load",
        "--url",
        api_url,
        "--rate",
        str(rate),
        "--seconds",
        str(seconds),
        *campaigns,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PULSE_API_KEY": api_key},
    )
    stdout, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the API load generator exited with {process.returncode}")
    return ApiLoadResult(**json.loads(stdout))


def bench_config(bootstrap: str, run_dir: Path) -> StackConfig:
    database = f"sqlite:///{run_dir.absolute()}/bench-{uuid.uuid4().hex[:8]}.db"
    return StackConfig.isolated(bootstrap, database, run_dir, "bench")


async def run_benchmark(
    config: StackConfig,
    events: int,
    campaigns: int,
    rate: float,
    seconds: float,
    api_rate: float = 300,
    api_seconds: float = 20,
) -> BenchResult:
    bootstrap = config.bootstrap_servers
    stack = Stack(config)
    try:
        stack.start(services=("ingest", "api"))
        headers = stack.auth_headers()
        load = synthetic_events(campaigns=campaigns, creators=10, total=events)
        ingest_rate = await _post_all(config.ingest_url, load, 500, 4, headers)
        raw_rate, messages = await _raw_consume(bootstrap, config.events_topic, events)
        floor_rate = await _faust_floor(bootstrap, config.events_topic, events, config.run_dir)
        peer = await measure_peer(bootstrap, config.events_topic, events, config.run_dir)
        stack.start(services=("monitor",))
        monitor_rate = await _monitor_rate(config.monitor_metrics_url, events)
        campaign_ids = sorted({e["campaign_id"] for e in load})
        async with asyncio.timeout(120):
            await _wait_for_snapshots(config.api_url, len(campaign_ids), headers)
        api = await _api_load(
            config.api_url, campaign_ids, api_rate, api_seconds, stack.admin_key()
        )
        filler = synthetic_events(campaigns=50, creators=10, total=int(rate * seconds) + 1000)
        filler = [{**e, "campaign_id": e["campaign_id"] + "-live"} for e in filler]
        latencies = await _latency(config, rate, seconds, filler, headers)
    finally:
        stack.stop()
    return BenchResult(
        events=events,
        kafka_messages=messages,
        ingest_events_per_s=ingest_rate,
        raw_events_per_s=raw_rate,
        faust_floor_events_per_s=floor_rate,
        monitor_events_per_s=monitor_rate,
        ratio=monitor_rate / raw_rate,
        offered_events_per_s=rate,
        e2e_latency_p50_s=percentile(latencies, 50),
        e2e_latency_p99_s=percentile(latencies, 99),
        e2e_samples=len(latencies),
        api=api,
        quixstreams=peer,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--campaigns",
        type=int,
        default=BENCH_CAMPAIGNS,
        help="campaigns (x 10 creators) the events are spread over; ingest packs each request of "
        "500 events into one Kafka message per partition (about 125 events each on 4 partitions)",
    )
    parser.add_argument("--rate", type=float, default=2_000, help="offered events/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--api-rate", type=float, default=300, help="campaign status requests/s")
    parser.add_argument("--api-seconds", type=float, default=20)
    parser.add_argument(
        "--memory-campaigns",
        type=int,
        default=10_000,
        help="campaigns (x 20 creators) a worker recovers for the memory figure; 0 to skip",
    )
    parser.add_argument(
        "--curve",
        action="store_true",
        help="also measure raw and monitor rates at 10, 50, 100 and 500 events a message "
        "(fresh topics, packed by partition), kept under 'curve' in the output",
    )
    parser.add_argument("--output", default=".bench/latest.json")


def main_from_args(args: argparse.Namespace) -> int:
    output = Path(args.output)
    run_dir = output.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as resources:
        bootstrap = (
            os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
            or resources.enter_context(EmbeddedBroker()).bootstrap_servers
        )
        result = asyncio.run(
            run_benchmark(
                bench_config(bootstrap, run_dir),
                args.events,
                args.campaigns,
                args.rate,
                args.latency_seconds,
                args.api_rate,
                args.api_seconds,
            )
        )
        if args.memory_campaigns > 0:
            result.memory = asyncio.run(
                measure_memory(
                    bench_config(bootstrap, run_dir),
                    args.memory_campaigns,
                    MEMORY_CREATORS_PER_CAMPAIGN,
                    MEMORY_WATCH_SECONDS,
                )
            )
        print(table(result))
        figures = asdict(result)
        output.write_text(json.dumps(figures, indent=2) + "\n")
        if args.curve:
            # Imported here because curve.py builds on this module's phases.
            from services.bench import curve

            points = asyncio.run(curve.measure_curve(bootstrap, run_dir, args.events))
            print("\nratio curve, monitor / raw by message size\n" + curve.curve_table(points))
            figures["curve"] = [asdict(point) for point in points]
            output.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwritten to {output}")
    return 0
