"""The benchmark's quixstreams peer on the real broker gives each creator the totals the monitor
gives: the latest snapshot of each post, summed, whatever the duplicates and the order. Its events
are produced by confluent-kafka as the contract says (key = campaign id, a JSON array of that
campaign's events or a single event object), on a topic created without configs, as ingest
creates it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.bench.quix_peer import COUNTS
from services.runtime.topics import TopicSpec, ensure_topics
from tests.e2e.events import Expected, messy_campaign
from tests.foreign_producer import produce_contract_events

pytestmark = pytest.mark.integration


def expected_totals(expected: Expected) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for (campaign_id, creator_id, _), snapshot in expected.latest.items():
        sums = totals.setdefault(f"{campaign_id}/{creator_id}", dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            sums[name] += snapshot[name]
    return totals


def test_peer_totals_are_exact(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"quix-peer-test-{uuid.uuid4().hex[:8]}.events"
    ensure_topics(kafka_bootstrap, [TopicSpec(topic, 4)])
    events: list[dict[str, Any]] = []
    expected = Expected()
    for seed, campaign_id in enumerate(("alpha", "beta", "gamma")):
        messy, truth = messy_campaign(campaign_id, creators=3, posts=2, seed=seed)
        events += messy
        expected.latest.update(truth.latest)
    produce_contract_events(kafka_bootstrap, topic, events, per_message=7)

    output = tmp_path / "peer.json"
    command = [sys.executable, "-m", "services.bench.quix_peer", "--bootstrap", kafka_bootstrap]
    command += ["--topic", topic, "--expected", str(len(events)), "--output", str(output)]
    subprocess.run([*command, "--totals"], check=True, timeout=180)

    result = json.loads(output.read_text())
    assert result["events_per_s"] > 0
    assert result["totals"] == expected_totals(expected)
