"""`pulse backfill FILE`: NDJSON events from a file straight into Kafka, validated as over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from tqdm import tqdm

from services.domain.events import FieldError
from services.ingest.app import validate_items
from services.ingest.publisher import EventPublisher, batch_messages
from services.ingest.settings import IngestSettings


def _chunks(path: Path, size: int) -> Iterator[tuple[int, list[Any], list[FieldError]]]:
    with path.open("rb") as lines:
        offset = 0
        while chunk := list(islice((line for line in lines if line.strip()), size)):
            items: list[Any] = []
            errors: list[FieldError] = []
            for index, line in enumerate(chunk):
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    items.append(None)
                    errors.append(FieldError(index=index, field="(line)", reason=str(exc)))
            yield offset, items, errors
            offset += len(chunk)


def backfill(path: Path, settings: IngestSettings, chunk_size: int = 5_000) -> tuple[int, int]:
    """Return (accepted, rejected); rejected lines are reported on stderr with their line number."""
    publisher = EventPublisher(
        settings.kafka_bootstrap_servers, settings.events_topic, settings.broker_timeout_seconds
    )
    accepted = rejected = 0
    currencies: dict[str, str] = {}
    progress = tqdm(unit="events", desc=path.name, disable=not sys.stderr.isatty())
    try:
        for offset, items, decode_errors in _chunks(path, chunk_size):
            valid, errors = validate_items(
                items,
                decode_errors,
                currencies,
                datetime.now(UTC),
                timedelta(seconds=settings.max_clock_skew_seconds),
            )
            for campaign_id, item in valid:
                if item["type"] != "post_metrics":
                    currencies.setdefault(campaign_id, item["currency"])
            publisher.publish(batch_messages(valid, settings.events_per_message))
            for error in errors:
                print(
                    f"line {offset + error.index + 1}: {error.field}: {error.reason}",
                    file=sys.stderr,
                )
            accepted += len(valid)
            rejected += len({e.index for e in errors})
            progress.update(len(items))
    finally:
        progress.close()
        publisher.close()
    return accepted, rejected
