"""Crashes, a broker that goes away, and events the monitor cannot use."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from services.bench.scrape import metric_total
from services.runtime.broker import EmbeddedBroker, free_port, wait_for_port
from services.runtime.stack import Stack
from tests.e2e.events import messy_campaign
from tests.e2e.harness import RunningStack, eventually, stack_config
from tests.e2e.test_pipeline import send_in_chunks, totals_match

pytestmark = pytest.mark.e2e


def test_monitor_killed_mid_stream_keeps_exact_totals(running_stack: RunningStack) -> None:
    events, expected = messy_campaign("crash", creators=5, posts=4, seed=11)
    first, second = events[: len(events) // 3], events[len(events) // 3 :]
    send_in_chunks(running_stack, first, size=40)

    sender = threading.Thread(target=send_in_chunks, args=(running_stack, second, 20))
    sender.start()
    running_stack.stack.stop_service("monitor", kill=True)
    running_stack.stack.spawn("monitor", ["monitor"])
    running_stack.stack.wait_ready("monitor")
    sender.join()

    eventually(lambda: totals_match(running_stack, "crash", expected), timeout=90)

    running_stack.stack.stop_service("monitor")
    send_in_chunks(running_stack, events, size=250)
    running_stack.stack.spawn("monitor", ["monitor"])
    marker, marker_expected = messy_campaign("after-restart", creators=1, posts=1, seed=12)
    send_in_chunks(running_stack, marker, size=500)
    eventually(lambda: totals_match(running_stack, "after-restart", marker_expected), timeout=90)
    assert totals_match(running_stack, "crash", expected)


@pytest.mark.parametrize("killed", [False, True], ids=["stopped", "killed"])
def test_a_second_worker_joining_and_leaving_keeps_exact_totals(
    running_stack: RunningStack, tmp_path: Path, killed: bool
) -> None:
    """A second monitor worker takes some partitions, processes their campaigns, and leaves
    (stopped, or killed without a goodbye) while events keep coming: each campaign moves with its
    partition, and its totals are exact."""
    campaigns = [messy_campaign(f"shared-{i}", creators=3, posts=3, seed=40 + i) for i in range(8)]
    stack = running_stack.stack
    metrics_port = free_port()
    stack.spawn(
        "monitor-b",
        ["monitor"],
        env={
            "PULSE_MONITOR_METRICS_PORT": str(metrics_port),
            "PULSE_MONITOR_DATA_DIR": str(tmp_path / "monitor-b"),
        },
    )
    wait_for_port("127.0.0.1", metrics_port, timeout=60)

    def processed_by_second_worker() -> float:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        return metric_total(text, "pulse_monitor_events")

    halves = [(events[: len(events) // 2], events[len(events) // 2 :]) for events, _ in campaigns]
    for first, _ in halves:
        send_in_chunks(running_stack, first, size=30)
    eventually(processed_by_second_worker, timeout=90)

    seconds = [event for _, second in halves for event in second]
    sender = threading.Thread(target=send_in_chunks, args=(running_stack, seconds, 25))
    sender.start()
    stack.stop_service("monitor-b", kill=killed)
    sender.join()

    eventually(
        lambda: all(
            totals_match(running_stack, f"shared-{index}", expected)
            for index, (_, expected) in enumerate(campaigns)
        ),
        timeout=90,
    )


def test_broker_down_means_503_and_nothing_accepted(tmp_path: Path) -> None:
    broker = EmbeddedBroker().start()
    config = stack_config(broker.bootstrap_servers, f"sqlite:///{tmp_path}/pulse.db", tmp_path)
    stack = Stack(config)
    try:
        stack.start(services=("ingest",))
        running = RunningStack(stack)
        events, _ = messy_campaign("outage", creators=1, posts=1, seed=5)
        assert running.send(events).status_code == 202
        broker.stop()
        response = running.send(events)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert "nothing was accepted" in response.json()["detail"]
        assert running.ingest.get("/readyz").status_code == 503
        running.close()
    finally:
        stack.stop()
        broker.stop()


def test_events_the_monitor_cannot_use_go_to_dead_letters(running_stack: RunningStack) -> None:
    config = running_stack.config
    events, expected = messy_campaign("direct", creators=1, posts=1, seed=21)
    producer = KafkaProducer(bootstrap_servers=config.bootstrap_servers)
    snapshot = next(e for e in events if e["type"] == "post_metrics")
    producer.send(config.events_topic, key=b"direct", value=b"{not json")
    producer.send(config.events_topic, key=b"someone-else", value=orjson.dumps(snapshot))
    producer.send(config.events_topic, key=b"direct", value=orjson.dumps({**snapshot, "views": -5}))
    for event in events:
        producer.send(config.events_topic, key=b"direct", value=orjson.dumps(event))
    producer.flush()
    producer.close()

    eventually(lambda: totals_match(running_stack, "direct", expected))
    consumer = KafkaConsumer(
        config.dead_letter_topic,
        bootstrap_servers=config.bootstrap_servers,
        group_id=f"dead-letter-reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=5_000,
        max_poll_interval_ms=10_000,
        session_timeout_ms=6_000,
    )
    letters = [orjson.loads(message.value) for message in consumer]
    consumer.close()
    reasons = {letter["field"]: letter["reason"] for letter in letters}
    assert reasons["(message)"].startswith("invalid JSON")
    assert "campaign_id" in reasons["(message key)"]
    assert "greater than or equal to 0" in reasons["views"]
    assert all({"reason", "field", "event", "source"} <= set(letter) for letter in letters)
