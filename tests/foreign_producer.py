"""A producer that is not ours: confluent-kafka (librdkafka) writing the documented contract to
the event topic. Key = campaign id; value = a JSON array of that campaign's events, or one event
object; a murmur2 partitioner, as the README tells producers in other languages to use."""

from __future__ import annotations

from typing import Any

import orjson
from confluent_kafka import Producer


def produce_contract_events(
    bootstrap: str, topic: str, events: list[dict[str, Any]], per_message: int
) -> int:
    """Each campaign's events in arrays of up to ``per_message``, in their order; every fifth
    array's events go as single event objects instead. Returns how many messages were sent."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    by_campaign: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_campaign.setdefault(event["campaign_id"], []).append(event)
    sent = 0
    for campaign_id, mine in by_campaign.items():
        chunks = [mine[i : i + per_message] for i in range(0, len(mine), per_message)]
        for n, chunk in enumerate(chunks):
            values: list[Any] = chunk if n % 5 == 4 else [chunk]
            for value in values:
                producer.produce(topic, key=campaign_id, value=orjson.dumps(value))
                sent += 1
    undelivered = producer.flush(30)
    assert undelivered == 0, f"{undelivered} messages not acknowledged"
    return sent
