"""Fixtures shared by the whole suite: a real Kafka-protocol broker.

The broker is chosen in this order: ``KAFKA_BOOTSTRAP_SERVERS`` if set; a testcontainers Kafka
when a Docker engine answers; otherwise the embedded Tansu broker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from services.runtime.broker import EmbeddedBroker
from tests.containers import docker_answers


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
    elif docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        with EmbeddedBroker() as broker:
            yield broker.bootstrap_servers
