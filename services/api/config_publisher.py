"""Campaign configurations to the compacted config topic (key: campaign id, value:
``CampaignConfig`` as JSON), where the monitor reads them. The API stores a configuration only
once the broker acknowledged it, so the database never holds one the monitor cannot see."""

from __future__ import annotations

import threading

from kafka import KafkaProducer
from kafka.errors import KafkaError

from services.api.settings import ApiSettings
from services.domain.config import CampaignConfig
from services.runtime.topics import TopicSpec, ensure_topics


class ConfigNotPublished(Exception):
    """The broker did not acknowledge a configuration; nothing may be stored."""


class ConfigPublisher:
    """Produces configurations with kafka-python, acks=all, waiting for the acknowledgement."""

    def __init__(self, settings: ApiSettings) -> None:
        self._bootstrap_servers = settings.kafka_bootstrap_servers
        self._topic = TopicSpec(
            settings.config_topic, settings.config_partitions, {"cleanup.policy": "compact"}
        )
        self._timeout = settings.config_produce_timeout_seconds
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _connect(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self._timeout * 1000)
                producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap_servers.split(","),
                    client_id="pulse-api-config",
                    acks="all",
                    retries=3,
                    bootstrap_timeout_ms=timeout_ms,
                    max_block_ms=timeout_ms,
                    request_timeout_ms=timeout_ms,
                    delivery_timeout_ms=timeout_ms + 2000,
                )
                try:
                    # The broker answered the producer's bootstrap, so this rarely waits.
                    ensure_topics(self._bootstrap_servers, [self._topic])
                except BaseException:
                    producer.close(timeout=0)
                    raise
                self._producer = producer
            return self._producer

    def publish(self, config: CampaignConfig) -> None:
        """Return only once the broker acknowledged the configuration."""
        try:
            producer = self._connect()
            future = producer.send(
                self._topic.name,
                key=config.campaign_id.encode(),
                value=config.model_dump_json().encode(),
            )
            producer.flush(timeout=self._timeout)
            future.get(timeout=self._timeout)
        except KafkaError as exc:
            raise ConfigNotPublished(str(exc)) from exc

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._timeout)
