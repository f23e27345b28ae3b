"""Publishes validated events to Kafka with kafka-python and waits for the broker's acknowledgement.

Events are grouped by campaign and sent as JSON arrays of up to ``events_per_message`` events per
Kafka message, keyed by campaign id: the monitor pays its per-message cost once per batch, and a
campaign's events stay on one partition, in order.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from services.runtime.topics import ACCEPTED_AT_HEADER


def _accepts_connections(server: str) -> bool:
    host, _, port = server.strip().rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""


def batch_messages(
    items: Iterable[tuple[str, Any]], events_per_message: int
) -> list[tuple[str, list[Any]]]:
    """Group (campaign_id, raw event) pairs into per-campaign batches, keeping arrival order."""
    by_campaign: dict[str, list[Any]] = {}
    for campaign_id, item in items:
        by_campaign.setdefault(campaign_id, []).append(item)
    return [
        (campaign_id, events[start : start + events_per_message])
        for campaign_id, events in by_campaign.items()
        for start in range(0, len(events), events_per_message)
    ]


class EventPublisher:
    def __init__(self, bootstrap_servers: str, topic: str, timeout: float) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout = timeout
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

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

    def publish(self, batches: Sequence[tuple[str, list[Any]]]) -> None:
        """Send every batch and return only once the broker acknowledged all of them."""
        producer = self._connect()
        accepted_at = str(time.time()).encode()
        try:
            futures = [
                producer.send(
                    self.topic,
                    key=campaign_id.encode(),
                    value=orjson.dumps(events),
                    headers=[(ACCEPTED_AT_HEADER, accepted_at)],
                )
                for campaign_id, events in batches
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
