"""The benchmark's result and the table that sets each figure against its target from the
performance issue."""

from __future__ import annotations

from dataclasses import dataclass

from services.bench.api_load import ApiLoadResult
from services.bench.memory import MemoryResult
from services.bench.peer import PeerResult

INGEST_TARGET_EVENTS_PER_S = 20_000
MONITOR_TARGET_RATIO = 0.3
E2E_TARGET_P99_S = 1.0
API_TARGET_P99_MS = 25.0
MEMORY_TARGET_BYTES_PER_CREATOR = 2048


@dataclass
class BenchResult:
    events: int
    kafka_messages: int
    ingest_events_per_s: float
    raw_events_per_s: float
    faust_floor_events_per_s: float
    monitor_events_per_s: float
    ratio: float
    offered_events_per_s: float
    e2e_latency_p50_s: float
    e2e_latency_p99_s: float
    e2e_samples: int
    api: ApiLoadResult
    quixstreams: PeerResult
    memory: MemoryResult | None = None


def _against(value: float, target: float, at_least: bool) -> str:
    """How ``value`` compares with its target, as the ratio value / target."""
    met = value >= target if at_least else value <= target
    return f"{value / target:.2f}x target, {'met' if met else 'missed'}"


def _rows(result: BenchResult) -> list[tuple[str, str, str]]:
    """(what, figure, target) for each line of the table."""
    api = result.api
    e2e_rate = f"{result.offered_events_per_s:,.0f}/s"
    api_rate = f"{api.offered_per_s:,.0f} req/s"
    return [
        (
            "events",
            f"{result.events:,} in {result.kafka_messages:,} Kafka messages",
            f"{result.events / result.kafka_messages:.0f} events a message",
        ),
        (
            "ingest over HTTP (batches of 500)",
            f"{result.ingest_events_per_s:,.0f} events/s",
            f"≥ {INGEST_TARGET_EVENTS_PER_S:,}/s: "
            + _against(result.ingest_events_per_s, INGEST_TARGET_EVENTS_PER_S, at_least=True),
        ),
        ("raw aiokafka consume + decode", f"{result.raw_events_per_s:,.0f} events/s", ""),
        (
            "bare Faust agent, decode only",
            f"{result.faust_floor_events_per_s:,.0f} events/s",
            f"{result.faust_floor_events_per_s / result.raw_events_per_s:.3f} of raw",
        ),
        ("monitor (state, changelogs, DB)", f"{result.monitor_events_per_s:,.0f} events/s", ""),
        (
            "ratio monitor / raw",
            f"{result.ratio:.3f}",
            f"≥ {MONITOR_TARGET_RATIO}: "
            + _against(result.ratio, MONITOR_TARGET_RATIO, at_least=True),
        ),
        *_peer_rows(result),
        (f"e2e latency p50 @ {e2e_rate}", f"{result.e2e_latency_p50_s:.3f} s", ""),
        (
            f"e2e latency p99 @ {e2e_rate}",
            f"{result.e2e_latency_p99_s:.3f} s",
            f"≤ {E2E_TARGET_P99_S:g} s: "
            + _against(result.e2e_latency_p99_s, E2E_TARGET_P99_S, at_least=False),
        ),
        (f"API campaign status p50 @ {api_rate}", f"{api.p50_ms:.1f} ms", ""),
        (
            f"API campaign status p99 @ {api_rate}",
            f"{api.p99_ms:.1f} ms",
            f"≤ {API_TARGET_P99_MS:g} ms: "
            + _against(api.p99_ms, API_TARGET_P99_MS, at_least=False),
        ),
        (
            "API requests answered",
            f"{api.achieved_per_s:,.0f} req/s, {api.failures} failed",
            f"client sent them up to {api.late_p99_ms:.1f} ms late (p99)",
        ),
        *(_memory_rows(result.memory) if result.memory is not None else []),
    ]


def _peer_rows(result: BenchResult) -> list[tuple[str, str, str]]:
    """The peer's figures; the target is that the monitor processes more events/s than it."""
    peer = result.quixstreams
    return [
        ("raw confluent-kafka consume + decode", f"{peer.raw_events_per_s:,.0f} events/s", ""),
        (
            "quixstreams peer (state, changelog)",
            f"{peer.events_per_s:,.0f} events/s",
            "monitor ≥ peer: "
            + _against(result.monitor_events_per_s, peer.events_per_s, at_least=True),
        ),
        ("ratio peer / its raw", f"{peer.ratio:.3f}", ""),
    ]


def _memory_rows(memory: MemoryResult) -> list[tuple[str, str, str]]:
    held = f"{memory.creators_held:,} creators"
    return [
        (
            f"worker RSS holding {held}",
            f"{memory.loaded_worker_rss_mib:,.0f} MiB "
            f"(empty {memory.empty_worker_rss_mib:,.0f}, "
            f"peak in status rounds {memory.peak_rss_during_status_rounds_mib:,.0f})",
            "",
        ),
        (
            "memory per creator-in-campaign",
            f"{memory.rss_bytes_per_creator:,.0f} B "
            f"(state {memory.state_bytes_per_creator:,.0f} B encoded)",
            f"≤ {MEMORY_TARGET_BYTES_PER_CREATOR:,} B: "
            + _against(
                memory.rss_bytes_per_creator, MEMORY_TARGET_BYTES_PER_CREATOR, at_least=False
            ),
        ),
        ("recovery of that state", f"{memory.seconds_to_recover:.0f} s", ""),
    ]


def table(result: BenchResult) -> str:
    rows = _rows(result)
    name_width = max(len(name) for name, _, _ in rows)
    figure_width = max(len(figure) for _, figure, _ in rows)
    return "\n".join(
        f"{name:<{name_width}}  {figure:<{figure_width}}  {target}".rstrip()
        for name, figure, target in rows
    )
