"""The Faust worker: a thin adapter between Kafka, the Processor, the tables and the database.

State lives in two Faust tables backed by compacted changelog topics (recovered after a restart or
a rebalance). Their values are the domain state, compressed JSON (``codec``); keys derive from the
campaign id, which is also the event topic's message key, so a campaign and all its creators stay
on one partition.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

import faust
import structlog
from faust.exceptions import NotReady
from faust.types import TP, EventT, StreamT, TableT

from services.domain.config import parse_config, targets_of
from services.domain.detection import CampaignTargets
from services.monitor import codec, telemetry
from services.monitor.alert_keeper import AlertKeeper
from services.monitor.buffer import HeldWrites
from services.monitor.processor import Placement, Processor
from services.monitor.settings import MonitorSettings
from services.monitor.snapshots import Changes, StatusRounds
from services.monitor.transport import transport_with_fetch_wait
from services.runtime.metrics_server import serve_metrics
from services.runtime.topics import (
    ACCEPTED_AT_HEADER,
    TopicSpec,
    campaign_partition,
    ensure_topics,
)
from services.storage.alerts import AlertRepository
from services.storage.db import make_engine, migrate
from services.storage.repository import StatusRepository
from services.storage.rollups import RollupRepository

log = structlog.get_logger(__name__)

# How long the last processed message may have waited since it was produced before the worker
# counts as behind.
BEHIND_AFTER_SECONDS = 1.0


def _broker_urls(bootstrap_servers: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")]


def faust_app(settings: MonitorSettings) -> faust.App:
    """The Faust app with the worker's broker, consumer and table settings, and no agents."""
    app = faust.App(
        settings.app_id,
        broker=_broker_urls(settings.kafka_bootstrap_servers),
        store=settings.store,
        datadir=settings.data_dir,
        topic_partitions=settings.partitions,
        web_enabled=False,
        web_port=settings.web_port,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_rebalance_timeout=settings.rebalance_timeout_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # A message carries up to 500 events: fetch and buffer more per request than the defaults.
        consumer_max_fetch_size=16 * 1024 * 1024,
        stream_buffer_maxsize=16_384,
        recovery_consistency_check=False,
        # A message is acknowledged only once its held writes are flushed (buffer.py), and a
        # rebalance pauses the agent that would flush them: waiting for every message to be
        # acknowledged before giving partitions up would wait forever. The state is idempotent,
        # so the messages not yet acknowledged are simply applied again by the partition's owner.
        stream_wait_empty=False,
        table_cleanup_interval=3600.0,
        processing_guarantee=settings.processing_guarantee,
    )
    app.transport = transport_with_fetch_wait(app, settings.fetch_max_wait_ms)
    return app


def raw_topic(app: faust.App, name: str) -> faust.TopicT:
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


def create_app(settings: MonitorSettings) -> faust.App:
    app = faust_app(settings)

    def state_table(name: str) -> TableT[str, bytes]:
        # str keys are JSON-encoded and bytes values stored raw, in the changelog as in memory;
        # keyed by campaign, so co-partitioned with the events.
        return app.Table(name, key_type=str, value_type=bytes, partitions=settings.partitions)

    events = raw_topic(app, settings.events_topic)
    dead_letters = raw_topic(app, settings.dead_letter_topic)
    configs = raw_topic(app, settings.config_topic)
    alerts = raw_topic(app, settings.alerts_topic)
    campaign_table = state_table("campaigns")
    creator_table = state_table("creators")
    config_table = state_table("configs")
    held_campaigns = HeldWrites(campaign_table, codec.CAMPAIGNS, settings.decoded_states)
    held_creators = HeldWrites(creator_table, codec.CREATORS, settings.decoded_states)
    processor = Processor(
        held_campaigns,
        held_creators,
        allowed_lateness=settings.allowed_lateness_hours * 3600,
        retention=max(7 * 24.0, settings.allowed_lateness_hours) * 3600 + 3600,
        suspicion=settings.suspicion,
    )
    telemetry.watch_state_size("campaigns", campaign_table)
    telemetry.watch_state_size("creators", creator_table)
    repository = StatusRepository(make_engine(settings.database_url))
    alert_keeper = AlertKeeper(AlertRepository(repository.engine))
    rollups = RollupRepository(repository.engine)
    changes = Changes()
    rounds = StatusRounds(
        processor,
        settings.snapshot_round_seconds,
        settings.reassess_interval_seconds,
        settings.snapshot_max_campaigns,
        settings.tier_bounds,
        settings.suspicion,
    )

    @app.task(on_leader=False)
    async def prepare() -> None:
        await asyncio.to_thread(migrate, repository.engine)
        serve_metrics(settings.metrics_port, settings.metrics_host, settings.metrics_token)

    @campaign_table.on_recover
    async def resnapshot_recovered() -> None:
        for campaign_id in campaign_table:
            changes.everything(campaign_id)

    # Messages whose table writes are still held, per partition, with when the oldest arrived.
    unflushed: dict[int, list[EventT[bytes]]] = {}
    queued_for = 0.0
    unflushed_since: dict[int, float] = {}

    # Faust types signal receivers as returning None, though it awaits coroutine receivers.
    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_revoked(sender: Any, revoked: set[TP], **_: Any) -> None:
        gone = {tp.partition for tp in revoked if tp.topic == settings.events_topic}
        for partition in gone:
            held_campaigns.drop(partition)
            held_creators.drop(partition)
            unflushed.pop(partition, None)
        if gone:
            partitions = app.consumer.topic_partitions(settings.events_topic) or settings.partitions
            rounds.forget(
                lambda campaign_id: campaign_partition(campaign_id, partitions) not in gone
            )

    @app.agent(events)
    async def monitor(stream: StreamT[bytes]) -> None:
        nonlocal queued_for
        # StreamT does not declare noack(); the stream Faust passes is a faust.Stream.
        acked_manually = cast(faust.Stream[bytes], stream).noack()
        event: EventT[bytes]
        async for event in acked_manually.events():
            message = event.message
            queued_for = time.time() - message.timestamp
            partition = message.partition
            held_campaigns.partition = held_creators.partition = partition
            placement = Placement(
                partition,
                app.consumer.topic_partitions(settings.events_topic) or settings.partitions,
            )
            result = processor.process(message.key, message.value, message.timestamp, placement)
            for campaign_id, creator_id in result.touched_creators:
                changes.creators(campaign_id, (creator_id,))
            telemetry.record_batch(result, _accepted_at(message.headers))
            source = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            }
            for letter in result.dead_letters:
                key = letter.campaign_id.encode() if letter.campaign_id else message.key
                await dead_letters.send(key=key, value=letter.to_json(source))
            waiting = unflushed.setdefault(partition, [])
            if not waiting:
                unflushed_since[partition] = time.monotonic()
            waiting.append(event)
            if (
                len(waiting) >= settings.flush_max_messages
                or time.monotonic() - unflushed_since[partition] >= settings.flush_interval_seconds
            ):
                held_campaigns.flush(partition)
                held_creators.flush(partition)
                for done in unflushed.pop(partition):
                    await acked_manually.ack(done)

    @app.agent(configs)
    async def configure(stream: StreamT[bytes]) -> None:
        event: EventT[bytes]
        async for event in stream.events():
            message = event.message
            value = message.value
            config = parse_config(value)
            if config is None or value is None:
                log.warning("ignoring an invalid campaign configuration", offset=message.offset)
                continue
            config_table[config.campaign_id] = value
            changes.everything(config.campaign_id)

    def target_of(campaign_id: str) -> CampaignTargets | None:
        config = parse_config(config_table.get(campaign_id))
        return targets_of(config) if config is not None else None

    @app.timer(interval=telemetry.LAG_SAMPLE_INTERVAL_SECONDS, on_leader=False)
    async def sample_consumer_lag() -> None:
        await telemetry.sample_consumer_lag(app, settings.events_topic)

    # While the worker is behind (the last message it processed had waited), a status round is
    # followed by a pause four times as long as it took, so building views takes at most a fifth
    # of a busy worker, whose figures lag by its backlog anyway; a worker keeping up runs them back
    # to back, so that figures are fresh.
    resume_at = 0.0

    @app.task(on_leader=False)
    async def write_snapshots() -> None:
        # A loop of its own rather than app.timer: a round longer than the interval is expected
        # (a worker keeping up runs them back to back), and the timer would log every one of them
        # as an overlap.
        while not app.should_stop:
            started = time.monotonic()
            await snapshot_round()
            await app.sleep(
                max(0.0, settings.snapshot_interval_seconds - (time.monotonic() - started))
            )

    async def snapshot_round() -> None:
        nonlocal resume_at
        if not changes or time.monotonic() < resume_at:
            return
        started = time.perf_counter()
        now = datetime.now(UTC)
        built = rounds.build(changes, now, target_of)
        try:
            await asyncio.to_thread(repository.save, built.campaigns, built.creators)
            await asyncio.to_thread(rollups.save, built.rollups, now, built.posts)
            changed = await asyncio.to_thread(
                alert_keeper.evaluate, built.campaigns, now, built.creators
            )
        except Exception:
            changes.merge(built.covered)
            log.exception("writing status snapshots or alerts failed; will retry")
            return
        # After the database commit: the outbox there feeds webhooks and the stream, so a lost
        # Kafka send loses only the topic's copy of that revision.
        for index, alert in enumerate(changed):
            try:
                await alerts.send(
                    key=alert.campaign_id.encode(), value=alert.model_dump_json().encode()
                )
            except NotReady:
                # The worker is stopping (its producer stopped while this round wrote to the
                # database); crashing here would only turn a clean shutdown into a failed one.
                log.warning(
                    "stopping: alert revisions not copied to the topic", count=len(changed) - index
                )
                return
        took = time.perf_counter() - started
        behind = queued_for > BEHIND_AFTER_SECONDS
        resume_at = time.monotonic() + (4 * took if behind else 0.0)
        telemetry.record_snapshot(built.campaigns, took)
        telemetry.record_targets(
            {cid: target.target_cac if target else None for cid, target in built.targets.items()}
        )
        telemetry.record_alerts(changed)

    return app


def monitor_topics(settings: MonitorSettings) -> list[TopicSpec]:
    return [
        TopicSpec(settings.events_topic, settings.partitions),
        TopicSpec(settings.dead_letter_topic, 1),
        TopicSpec(settings.alerts_topic, settings.partitions),
        TopicSpec(settings.config_topic, settings.partitions, {"cleanup.policy": "compact"}),
    ]


def _accepted_at(headers: Any) -> float | None:
    for name, value in headers.items() if isinstance(headers, dict) else headers or ():
        if name == ACCEPTED_AT_HEADER:
            return float(value)
    return None


def main(settings: MonitorSettings | None = None) -> None:
    settings = settings or MonitorSettings()
    ensure_topics(settings.kafka_bootstrap_servers, monitor_topics(settings))
    run_worker(create_app(settings), settings.log_level)


def run_worker(app: faust.App, loglevel: str) -> None:
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's terminal spinner turns the root logger to DEBUG so that it can spin on every record:
    # every debug message of aiokafka and Faust would then be built, at a quarter of the CPU.
    worker.spinner = None
    worker.execute_from_commandline()
