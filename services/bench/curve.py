"""`pulse bench --curve`: the monitor's ratio to raw consumption at several message sizes.

For each size, on a fresh topic: the benchmark's events are produced packed by partition (as
ingest packs them) in messages of that many events, read back by the raw aiokafka consumer, then
processed by a fresh monitor with everything on. Where the ratio climbs with the size, the
per-message path (Faust) sets the pace; where it is flat, the per-event work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from services.bench.run import (
    BENCH_CAMPAIGNS,
    _monitor_rate,
    _raw_consume,
    bench_config,
    synthetic_events,
)
from services.ingest.publisher import OutgoingMessage, pack_messages
from services.runtime.stack import Stack
from services.runtime.topics import TopicSpec, ensure_topics

CURVE_SIZES = (10, 50, 100, 500)
PARTITIONS = 4


@dataclass
class CurvePoint:
    events_per_message: int
    kafka_messages: int
    raw_events_per_s: float
    monitor_events_per_s: float
    ratio: float


async def _produce(bootstrap: str, topic: str, messages: list[OutgoingMessage]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1024 * 1024, acks="all"
    )
    await producer.start()
    try:
        for message in messages:
            await producer.send(topic, orjson.dumps(message.events), partition=message.partition)
        await producer.flush()
    finally:
        await producer.stop()


async def measure_point(bootstrap: str, run_dir: Path, events: int, size: int) -> CurvePoint:
    config = bench_config(bootstrap, run_dir)
    ensure_topics(bootstrap, [TopicSpec(config.events_topic, PARTITIONS)])
    load = synthetic_events(campaigns=BENCH_CAMPAIGNS, creators=10, total=events)
    messages = pack_messages(((e["campaign_id"], e) for e in load), PARTITIONS, size)
    await _produce(bootstrap, config.events_topic, messages)
    raw_rate, _ = await _raw_consume(bootstrap, config.events_topic, events)
    stack = Stack(config)
    try:
        stack.start(services=("monitor",))
        monitor_rate = await _monitor_rate(config.monitor_metrics_url, events)
    finally:
        stack.stop()
    return CurvePoint(size, len(messages), raw_rate, monitor_rate, monitor_rate / raw_rate)


async def measure_curve(bootstrap: str, run_dir: Path, events: int) -> list[CurvePoint]:
    return [await measure_point(bootstrap, run_dir, events, size) for size in CURVE_SIZES]


def curve_table(points: list[CurvePoint]) -> str:
    header = (
        f"{'events a message':>16}  {'messages':>8}  {'raw ev/s':>10}  {'monitor ev/s':>12}  ratio"
    )
    rows = [
        f"{p.events_per_message:>16}  {p.kafka_messages:>8,}  {p.raw_events_per_s:>10,.0f}  "
        f"{p.monitor_events_per_s:>12,.0f}  {p.ratio:.3f}"
        for p in points
    ]
    return "\n".join([header, *rows])
