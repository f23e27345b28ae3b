"""Topic creation, idempotent: every service ensures the topics it needs exist at start."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import lru_cache

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2
from tenacity import retry, stop_after_delay, wait_exponential

# Set by ingest on every message: when it was handed to the broker (Unix seconds), so the monitor
# can measure how long events take to reach it.
ACCEPTED_AT_HEADER = "pulse-accepted-at"


# murmur2 is pure Python (a few microseconds); the monitor asks once per campaign in a message.
@lru_cache(maxsize=65_536)
def campaign_partition(campaign_id: str, partitions: int) -> int:
    """The partition producers' default (murmur2) partitioner gives the campaign's key: where the
    contract's messages (key = campaign id) land, and where ingest sends a packed message."""
    hashed: int = murmur2(campaign_id.encode())
    return (hashed & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


@retry(stop=stop_after_delay(30), wait=wait_exponential(multiplier=0.1, max=2), reraise=True)
def ensure_topics(bootstrap_servers: str, topics: list[TopicSpec]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="pulse-admin")
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(t.name, t.partitions, 1, topic_configs=t.config)
            for t in topics
            if t.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
    finally:
        admin.close()
