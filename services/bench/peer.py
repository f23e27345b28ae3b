"""The benchmark's peer phase: the quixstreams peer and its raw confluent-kafka baseline, each
run as a process of its own (``quix_peer``) on the topic the monitor reads, one after the other."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

PEER_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class PeerResult:
    events_per_s: float
    raw_events_per_s: float
    ratio: float


async def _run(bootstrap: str, topic: str, expected: int, run_dir: Path, *mode: str) -> float:
    output = run_dir / f"quix-peer-{uuid.uuid4().hex[:8]}.json"
    command = [sys.executable, "-m", "services.bench.quix_peer"]
    command += ["--bootstrap", bootstrap, "--topic", topic, "--expected", str(expected)]
    process = await asyncio.create_subprocess_exec(*command, "--output", str(output), *mode)
    async with asyncio.timeout(PEER_TIMEOUT_SECONDS):
        await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the quixstreams peer exited with {process.returncode}")
    rate: float = json.loads(output.read_text())["events_per_s"]
    return rate


async def measure_peer(bootstrap: str, topic: str, expected: int, run_dir: Path) -> PeerResult:
    raw = await _run(bootstrap, topic, expected, run_dir, "--raw")
    peer = await _run(bootstrap, topic, expected, run_dir)
    return PeerResult(events_per_s=peer, raw_events_per_s=raw, ratio=peer / raw)
