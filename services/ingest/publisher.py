"""Publishes validated events to Kafka with kafka-python and waits for the broker's acknowledgement.

Events are sent as JSON arrays of up to ``events_per_message`` events per Kafka message, so the
monitor pays its per-message cost once per batch, in one of two shapes (README, "The event
contract"):

- per campaign (the contract's shape): a campaign's events, keyed by campaign id;
- packed by partition: the events of every campaign whose key hashes to the same partition, sent
  without a key to that partition explicitly. A campaign's events land where the contract puts
  them, in order, and a request of many campaigns makes a few large messages instead of many small
  ones.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from services.ingest.settings import IngestSettings
from services.runtime.topics import ACCEPTED_AT_HEADER, campaign_partition


def _accepts_connections(server: str) -> bool:
    host, _, port = server.strip().rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Kafka message: its key (None for a packed message), its explicit partition (None: the
    producer's partitioner on the key) and its events."""

    key: str | None
    partition: int | None
    events: list[Any]


def batch_messages(
    items: Iterable[tuple[str, Any]], events_per_message: int
) -> list[OutgoingMessage]:
    """Group (campaign_id, raw event) pairs into per-campaign batches, keeping arrival order."""
    by_campaign: dict[str, list[Any]] = {}
    for campaign_id, item in items:
        by_campaign.setdefault(campaign_id, []).append(item)
    return [
        OutgoingMessage(campaign_id, None, events[start : start + events_per_message])
        for campaign_id, events in by_campaign.items()
        for start in range(0, len(events), events_per_message)
    ]


def pack_messages(
    items: Iterable[tuple[str, Any]], partitions: int, events_per_message: int
) -> list[OutgoingMessage]:
    """Group (campaign_id, raw event) pairs by the partition their campaign's key hashes to,
    keeping arrival order, into unkeyed messages of up to ``events_per_message`` events."""
    by_partition: dict[int, list[Any]] = {}
    for campaign_id, item in items:
        by_partition.setdefault(campaign_partition(campaign_id, partitions), []).append(item)
    return [
        OutgoingMessage(None, partition, events[start : start + events_per_message])
        for partition, events in by_partition.items()
        for start in range(0, len(events), events_per_message)
    ]


class EventPublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        timeout: float,
        events_per_message: int = 500,
        pack_by_partition: bool = False,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout = timeout
        self.events_per_message = events_per_message
        self.pack_by_partition = pack_by_partition
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_ingest(cls, settings: IngestSettings) -> EventPublisher:
        return cls(
            settings.kafka_bootstrap_servers,
            settings.events_topic,
            settings.broker_timeout_seconds,
            settings.events_per_message,
            settings.pack_by_partition,
        )

    def _connect(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self.bootstrap_servers.split(","),
                        client_id="pulse-ingest",
                        acks="all",
                        linger_ms=2,
                        # Room for all of a request's messages to one partition in one record
                        # batch (the default, 16 KiB, fits four 10-event messages): half the
                        # producer's CPU per event. Stays under Kafka's default 1 MiB batch limit.
                        batch_size=1024 * 1024,
                        retries=3,
                        max_block_ms=int(self.timeout * 1000),
                        bootstrap_timeout_ms=int(self.timeout * 1000),
                        request_timeout_ms=int(self.timeout * 1000),
                        delivery_timeout_ms=int(self.timeout * 1000) + 2000,
                        max_request_size=16 * 1024 * 1024,
                    )
                except KafkaError as exc:
                    raise BrokerUnavailable(str(exc)) from exc
            return self._producer

    def messages(
        self, producer: KafkaProducer, items: Sequence[tuple[str, Any]]
    ) -> list[OutgoingMessage]:
        if not self.pack_by_partition:
            return batch_messages(items, self.events_per_message)
        partitions = producer.partitions_for(self.topic)
        if not partitions:
            raise BrokerUnavailable(f"the partitions of {self.topic} are not known")
        return pack_messages(items, len(partitions), self.events_per_message)

    def publish(self, items: Sequence[tuple[str, Any]]) -> None:
        """Send every (campaign_id, raw event) pair and return only once the broker acknowledged
        all of them."""
        producer = self._connect()
        accepted_at = str(time.time()).encode()
        try:
            futures = [
                producer.send(
                    self.topic,
                    key=message.key.encode() if message.key is not None else None,
                    value=orjson.dumps(message.events),
                    headers=[(ACCEPTED_AT_HEADER, accepted_at)],
                    partition=message.partition,
                )
                for message in self.messages(producer, items)
            ]
            producer.flush(timeout=self.timeout)
            for future in futures:
                future.get(timeout=self.timeout)
        except KafkaError as exc:
            raise BrokerUnavailable(str(exc)) from exc

    def ready(self) -> bool:
        """True when a bootstrap server accepts connections and the topic's partitions are known."""
        if not any(_accepts_connections(server) for server in self.bootstrap_servers.split(",")):
            return False
        try:
            return bool(self._connect().partitions_for(self.topic))
        except (BrokerUnavailable, KafkaError):
            return False

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self.timeout)
