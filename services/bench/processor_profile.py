"""Where the monitor's time goes per event, offline: the benchmark's messages fed to the Processor.

No broker and no Faust: the same synthetic events as ``pulse bench``, grouped into Kafka messages
as ingest groups them (requests of 500; one message per campaign in a request, or with
``--packed`` one per partition of ``--partitions``), applied by the
Processor over in-memory tables with a flush every ``--flush-every`` messages, as the worker does.
It prints the microseconds an event costs in each part of the path, and with ``--profile`` the
functions that take the most time (cProfile). ``docs/performance.md`` records its figures.

    python -m services.bench.processor_profile --campaigns 200 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from services.bench.run import BENCH_CAMPAIGNS, synthetic_events
from services.domain.compiled_events import decode_valid_message
from services.domain.events import parse_event
from services.ingest.publisher import batch_messages, pack_messages
from services.monitor import codec
from services.monitor.buffer import HeldWrites
from services.monitor.processor import Placement, Processor
from services.runtime.topics import campaign_partition

REQUEST_SIZE = 500


@dataclass(frozen=True, slots=True)
class BenchMessage:
    key: bytes | None
    value: bytes
    placement: Placement


def bench_messages(
    events: int, campaigns: int, partitions: int, packed: bool = False
) -> list[BenchMessage]:
    load = synthetic_events(campaigns=campaigns, creators=10, total=events)
    messages: list[BenchMessage] = []
    for start in range(0, len(load), REQUEST_SIZE):
        request = [(e["campaign_id"], e) for e in load[start : start + REQUEST_SIZE]]
        if packed:
            outgoing = pack_messages(request, partitions, REQUEST_SIZE)
        else:
            outgoing = batch_messages(request, REQUEST_SIZE)
        for message in outgoing:
            key = message.key.encode() if message.key is not None else None
            first = message.events[0]["campaign_id"]
            partition = campaign_partition(first, partitions)
            messages.append(
                BenchMessage(key, orjson.dumps(message.events), Placement(partition, partitions))
            )
    return messages


def contract_decode(messages: list[BenchMessage]) -> None:
    for message in messages:
        for index, item in enumerate(orjson.loads(message.value)):
            parse_event(item, index)


def compiled_decode(messages: list[BenchMessage]) -> None:
    for message in messages:
        decode_valid_message(message.value)


def process_all(messages: list[BenchMessage], flush_every: int) -> None:
    campaigns = HeldWrites({}, codec.CAMPAIGNS)
    creators = HeldWrites({}, codec.CREATORS)
    processor = Processor(campaigns, creators, allowed_lateness=72 * 3600, retention=240 * 3600)
    for count, message in enumerate(messages, start=1):
        processor.process(message.key, message.value, time.time(), message.placement)
        if count % flush_every == 0:
            campaigns.flush(0)
            creators.flush(0)
    campaigns.flush(0)
    creators.flush(0)


def microseconds_per_event(run: Callable[[], None], events: int, repeats: int) -> float:
    """The best of ``repeats`` runs: the machine is shared, the least disturbed run is the cost."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--campaigns", type=int, default=BENCH_CAMPAIGNS)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--packed", action="store_true", help="pack messages by partition")
    parser.add_argument("--flush-every", type=int, default=50, help="messages between flushes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also print the top functions")
    args = parser.parse_args()
    messages = bench_messages(args.events, args.campaigns, args.partitions, args.packed)
    print(f"{args.events:,} events in {len(messages):,} messages")
    parts: dict[str, Callable[[], None]] = {
        "JSON decode + pydantic validation (contract)": lambda: contract_decode(messages),
        "msgspec decode + validation (compiled)": lambda: compiled_decode(messages),
        "Processor.process, whole path": lambda: process_all(messages, args.flush_every),
    }
    for name, run in parts.items():
        cost = microseconds_per_event(run, args.events, args.repeats)
        print(f"{name:<48} {cost:6.2f} µs/event")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(process_all, messages, args.flush_every)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
