"""`pulse backfill FILE`: NDJSON events from a file straight into Kafka, validated as over HTTP.

`produce` is the validating, producing half, shared with `pulse import` (CSV): each reader only
turns its file into items and says where each item is in the file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from tqdm import tqdm

from services.domain.events import FieldError
from services.ingest.app import validate_items
from services.ingest.publisher import EventPublisher
from services.ingest.settings import IngestSettings


class Chunk(NamedTuple):
    items: list[Any]
    # Items the reader could not turn into an event at all; each index points into items.
    unreadable: list[FieldError]
    # Where each item is in the file (a line or a row number), for the error messages.
    positions: list[int]


def _chunks(path: Path, size: int) -> Iterator[Chunk]:
    with path.open("rb") as lines:
        numbered = ((number, line) for number, line in enumerate(lines, 1) if line.strip())
        while chunk := list(islice(numbered, size)):
            items: list[Any] = []
            errors: list[FieldError] = []
            for index, (_, line) in enumerate(chunk):
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    items.append(None)
                    errors.append(FieldError(index=index, field="(line)", reason=str(exc)))
            yield Chunk(items, errors, [number for number, _ in chunk])


def produce(
    chunks: Iterable[Chunk],
    settings: IngestSettings,
    name: str,
    describe: Callable[[int, FieldError], str],
) -> tuple[int, int]:
    """Validate and produce every chunk; return (accepted, rejected).

    Each rejection is printed on stderr as ``describe(position, error)``.
    """
    publisher = EventPublisher.for_ingest(settings)
    accepted = rejected = 0
    currencies: dict[str, str] = {}
    progress = tqdm(unit="events", desc=name, disable=not sys.stderr.isatty())
    try:
        for items, unreadable, positions in chunks:
            valid, errors = validate_items(
                items,
                unreadable,
                currencies,
                datetime.now(UTC),
                timedelta(seconds=settings.max_clock_skew_seconds),
            )
            for campaign_id, item in valid:
                if item["type"] != "post_metrics":
                    currencies.setdefault(campaign_id, item["currency"])
            publisher.publish(valid)
            for error in errors:
                print(describe(positions[error.index], error), file=sys.stderr)
            accepted += len(valid)
            rejected += len({e.index for e in errors})
            progress.update(len(items))
    finally:
        progress.close()
        publisher.close()
    return accepted, rejected


def backfill(path: Path, settings: IngestSettings, chunk_size: int = 5_000) -> tuple[int, int]:
    """Return (accepted, rejected); rejected lines are reported on stderr with their line number."""
    return produce(
        _chunks(path, chunk_size),
        settings,
        path.name,
        lambda line, error: f"line {line}: {error.field}: {error.reason}",
    )
