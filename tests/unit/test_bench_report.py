"""The benchmark's result keeps the peer's figures under ``quixstreams`` in its JSON, and its table
says whether the monitor processed more events per second than the peer."""

from __future__ import annotations

from dataclasses import asdict

from services.bench.api_load import ApiLoadResult
from services.bench.peer import PeerResult
from services.bench.report import BenchResult, table


def result(monitor_events_per_s: float, peer_events_per_s: float) -> BenchResult:
    return BenchResult(
        events=50_000,
        kafka_messages=5_000,
        ingest_events_per_s=40_000,
        raw_events_per_s=200_000,
        faust_floor_events_per_s=50_000,
        monitor_events_per_s=monitor_events_per_s,
        ratio=monitor_events_per_s / 200_000,
        offered_events_per_s=2_000,
        e2e_latency_p50_s=0.2,
        e2e_latency_p99_s=0.5,
        e2e_samples=50,
        api=ApiLoadResult(300, 300, 1500, 0, 1.0, 2.0, 3.0, 0.5),
        quixstreams=PeerResult(
            events_per_s=peer_events_per_s,
            raw_events_per_s=400_000,
            ratio=peer_events_per_s / 400_000,
        ),
    )


def row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(name))


def test_the_peer_figures_are_in_the_json_under_quixstreams() -> None:
    written = asdict(result(10_000, 25_000))
    assert written["quixstreams"] == {
        "events_per_s": 25_000,
        "raw_events_per_s": 400_000,
        "ratio": 0.0625,
    }
    assert written["monitor_events_per_s"] == 10_000


def test_the_table_sets_the_monitor_against_the_peer() -> None:
    behind = table(result(10_000, 25_000))
    assert "25,000 events/s" in row(behind, "quixstreams peer")
    assert row(behind, "quixstreams peer").endswith("monitor ≥ peer: 0.40x target, missed")
    assert row(behind, "raw confluent-kafka").split()[-2] == "400,000"
    assert row(behind, "ratio peer / its raw").split()[-1] == "0.062"
    ahead = table(result(30_000, 25_000))
    assert row(ahead, "quixstreams peer").endswith("monitor ≥ peer: 1.20x target, met")
