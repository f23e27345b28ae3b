"""A peer stream processor for the benchmark: the monitor's core aggregation in quixstreams.

The same per-creator aggregation as the monitor (the latest snapshot of each post, summed per
creator in a campaign, held in a changelogged state store), written the way quixstreams' docs
recommend: a JSON topic, ``apply(..., expand=True)`` to turn each message's array into events, a
filter, and a stateful ``apply``. Its baseline is its own client's raw rate: a plain
confluent-kafka Consumer that reads and JSON-decodes the same topic.

Messages are keyed by campaign id, and quixstreams scopes state to the message key, so each
creator's totals and each post's latest snapshot live under their campaign's key in the store of
the campaign's partition. That is the monitor's layout; a ``group_by`` on the creator would add a
repartition topic (every event produced and consumed a second time) that the monitor does not pay.

Workaround, for the embedded broker only: Tansu's ``DescribeConfigs`` answers only the configs a
topic was created with, and quixstreams derives its changelog topic's settings from the source
topic's ``retention.ms``, which a topic created without it then lacks. ``declare_retention`` sets
Kafka's default (7 days) on such a topic with ``IncrementalAlterConfigs`` before the app starts;
on a real Kafka broker the config is always there and it does nothing.

The benchmark runs each measurement as a separate process (``python -m
services.bench.quix_peer``), so that this client and ours never share a process.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource
from quixstreams import Application, State

from services.bench.phase import phase_parser

COUNTS = ("views", "likes", "comments", "shares", "saves", "clicks")
KAFKA_DEFAULT_RETENTION_MS = str(7 * 24 * 3600 * 1000)


def declare_retention(bootstrap: str, topic: str) -> None:
    """Give ``topic`` Kafka's default retention.ms where the broker does not report one."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    described = admin.describe_configs([resource])[resource].result()
    if "retention.ms" in described:
        return
    entry = ConfigEntry(
        "retention.ms", KAFKA_DEFAULT_RETENTION_MS, incremental_operation=AlterConfigOpType.SET
    )
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    admin.incremental_alter_configs([resource])[resource].result()


def raw_rate(bootstrap: str, topic: str, expected: int) -> float:
    """Events/s of a plain confluent-kafka Consumer reading and decoding the whole topic."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-quix-raw-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        partitions = metadata.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        seen = 0
        started: float | None = None
        while seen < expected:
            for message in consumer.consume(num_messages=10_000, timeout=1.0):
                if message.error() is not None:
                    continue
                started = started or time.perf_counter()
                decoded = orjson.loads(message.value() or b"[]")
                seen += len(decoded) if isinstance(decoded, list) else 1
        assert started is not None
        return seen / (time.perf_counter() - started)
    finally:
        consumer.close()


def latest_snapshot_totals(event: dict[str, Any], state: State[str, Any]) -> dict[str, Any]:
    """The stateful step: keep each post's latest snapshot, and sum them per creator.

    A snapshot older than the post's kept one (a re-send, or one that arrives late) changes
    nothing; a newer one adds its difference to its creator's totals.
    """
    creator = event["creator_id"]
    post_key = f"post/{creator}/{event['post_id']}"
    creator_key = f"creator/{creator}"
    totals: dict[str, Any] = state.get(creator_key) or dict.fromkeys(COUNTS, 0)
    kept = state.get(post_key)
    if kept is None or event["observed_at"] > kept["observed_at"]:
        for name in COUNTS:
            totals[name] += event[name] - (kept[name] if kept else 0)
        state.set(post_key, {"observed_at": event["observed_at"], **{n: event[n] for n in COUNTS}})
        state.set(creator_key, totals)
    return {"campaign_id": event["campaign_id"], "creator_id": creator, **totals}


def run_peer(
    bootstrap: str, topic: str, expected: int, state_dir: Path, keep_totals: bool
) -> tuple[float, dict[str, dict[str, int]]]:
    """Events/s of the quixstreams app, from its first message to the end of the message that
    holds its ``expected``-th event, and, with ``keep_totals``, the last totals it gave for each
    creator ("campaign/creator")."""
    declare_retention(bootstrap, topic)
    totals: dict[str, dict[str, int]] = {}
    seen = 0
    started = finished = 0.0

    def processed(topic_name: str, partition: int, offset: int) -> None:
        nonlocal finished
        if seen >= expected and not finished:
            finished = time.perf_counter()
            app.stop()

    app = Application(
        broker_address=bootstrap,
        consumer_group=f"bench-quix-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        # The monitor commits offsets and flushes its changelogs every second too.
        commit_interval=1.0,
        # The monitor's group timeouts: with librdkafka's defaults (45 s session), the app waited
        # about 25 s on the embedded broker before its first message, against about 4 s.
        consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000},
        on_message_processed=processed,
        loglevel="WARNING",
    )

    def expand(message: list[dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
        """A message's events: a JSON array of them, or one event object (the contract)."""
        nonlocal seen, started
        started = started or time.perf_counter()
        events = message if isinstance(message, list) else [message]
        seen += len(events)
        return events

    def keep(view: dict[str, Any]) -> None:
        totals[f"{view['campaign_id']}/{view['creator_id']}"] = {n: view[n] for n in COUNTS}

    sdf = app.dataframe(app.topic(topic, value_deserializer="json", key_deserializer="str"))
    sdf = sdf.apply(expand, expand=True)
    sdf = sdf.filter(lambda event: event["type"] == "post_metrics")
    sdf = sdf.apply(latest_snapshot_totals, stateful=True)
    if keep_totals:
        sdf = sdf.update(keep)
    app.run()
    return seen / (finished - started), totals


def main() -> None:
    parser = phase_parser(__doc__)
    parser.add_argument("--raw", action="store_true", help="measure the raw consumer only")
    parser.add_argument("--totals", action="store_true", help="write each creator's totals too")
    args = parser.parse_args()
    if args.raw:
        result: dict[str, Any] = {
            "events_per_s": raw_rate(args.bootstrap, args.topic, args.expected)
        }
    else:
        with tempfile.TemporaryDirectory(prefix="quix-state-", dir=args.output.parent) as state:
            rate, totals = run_peer(
                args.bootstrap, args.topic, args.expected, Path(state), args.totals
            )
        result = {"events_per_s": rate, "totals": totals}
    args.output.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
