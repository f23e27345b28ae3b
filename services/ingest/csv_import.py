"""`pulse import FILE.csv --campaign ID`: a spreadsheet of post metrics as `post_metrics` events.

Reading is pure: a header row and data rows become event dicts, or the cells that could not be
read, and everything after that (the contract's validation, producing, exactly-once) is
`pulse backfill`'s own path (`services.ingest.backfill.produce`), so a CSV row is accepted exactly
when the same event sent as NDJSON would be.

Each row's ``event_id`` is ``{post_id}@{observed_at in UTC}``: the same snapshot gives the same id
however often the file is imported and whatever zone its times are written in.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import chain, islice
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.domain.events import FieldError, Identifier
from services.ingest.backfill import Chunk, produce
from services.ingest.settings import IngestSettings

# The contract's fields and the column names accepted for each, compared case-insensitively and
# ignoring spaces, underscores and punctuation ("Post ID" = "post_id" = "PostId"). The aliases are
# the names the platforms' exports and APIs use (Instagram: Media ID, Saved, Like count; TikTok:
# Video ID, Video views, Create time; YouTube: Video ID, Publish time, Subscribers). Left out on
# purpose: impressions and reach (not views), favorites (YouTube's is always 0), a bare "Timestamp"
# or "Date" (the post's time or the export's?).
COLUMNS: dict[str, tuple[str, ...]] = {
    "creator_id": ("creator_id", "creator", "creator handle", "username", "handle", "account"),
    "platform": ("platform", "network", "social network"),
    "post_id": ("post_id", "media id", "video id", "content id"),
    "posted_at": (
        "posted_at",
        "publish time",
        "published at",
        "publish date",
        "date posted",
        "post time",
        "create time",
        "created at",
    ),
    "observed_at": (
        "observed_at",
        "observed",
        "as of",
        "data as of",
        "snapshot time",
        "retrieved at",
        "collected at",
        "exported at",
    ),
    "followers": ("followers", "follower count", "followers count", "subscribers"),
    "views": ("views", "video views", "plays", "view count", "video plays"),
    "likes": ("likes", "like count", "likes count"),
    "comments": ("comments", "comment count", "comments count"),
    "shares": ("shares", "share count", "shares count"),
    "saves": ("saves", "saved", "save count", "saves count"),
    "clicks": ("clicks", "link clicks", "link taps", "link clicks count"),
}
# Counts a platform may not report at all (TikTok has no saves, YouTube's Data API no shares or
# saves, clicks come from link shorteners): a missing column or an empty cell is 0, as the
# platform adapters send. Every other count must be there: a hidden count is not a zero.
OPTIONAL_COUNTS = frozenset({"shares", "saves", "clicks"})
COUNTS = ("followers", "views", "likes", "comments", "shares", "saves", "clicks")
TIMES = ("posted_at", "observed_at")
DELIMITERS = (",", ";", "\t")

_WHOLE = re.compile(r"-?\d+")
# Thousands separators as spreadsheets write them: 1,234 / 1.234 / 1 234 / 1'234, groups of three.
_GROUPED = re.compile(r"-?\d{1,3}(?P<sep>[,.' \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*")
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


class CsvFileError(ValueError):
    """The file as a whole cannot be imported (no header, missing columns, not UTF-8…)."""


def _key(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


_FIELD_OF = {_key(alias): field for field, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class Header:
    columns: dict[str, int]  # contract field -> index of its cell in a row
    labels: dict[str, str]  # contract field -> the column's name as the file writes it
    ignored: list[str]  # columns that are not in the contract, as written

    def label(self, field: str) -> str:
        # The event id is built from the post id and observation time: blame the post id column.
        field = "post_id" if field == "event_id" else field
        return self.labels.get(field, field)


def read_header(cells: list[str]) -> Header:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip()
        field = _FIELD_OF.get(_key(name))
        if field is None:
            if name:
                ignored.append(name)
            continue
        if field in columns:
            raise CsvFileError(f"columns {labels[field]!r} and {name!r} are both {field}")
        columns[field] = index
        labels[field] = name
    missing = [f for f in COLUMNS if f not in columns and f not in OPTIONAL_COUNTS]
    if missing:
        accepted = "; ".join(f"{f}: {', '.join(COLUMNS[f])}" for f in missing)
        raise CsvFileError(f"missing column(s) {', '.join(missing)} (accepted names: {accepted})")
    return Header(columns, labels, ignored)


def parse_count(text: str) -> int:
    compact = text.strip()
    if _WHOLE.fullmatch(compact) or _GROUPED.fullmatch(compact):
        return int(re.sub(r"[^\d-]", "", compact))
    raise ValueError(f"{text.strip()!r} is not a whole number")


def parse_time(text: str, zone: tzinfo | None) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text.strip()!r} is not an ISO 8601 time such as 2026-05-01 12:00:00+02:00"
        ) from None
    if at.tzinfo is None:
        if zone is None:
            raise ValueError(
                f"{text.strip()!r} has no time zone: write one (Z, +02:00) or pass --timezone"
            )
        at = at.replace(tzinfo=zone)
    return at


def _rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def row_to_event(
    cells: list[str], header: Header, campaign_id: str, zone: tzinfo | None, index: int = 0
) -> dict[str, Any] | list[FieldError]:
    """One data row as a `post_metrics` dict for the contract to validate, or why it is unreadable.

    Only reading is checked here (numbers, times); negative counts, bad ids, observed before posted
    and the rest are left to the contract so that a CSV row and an NDJSON event are judged alike.
    """

    def cell(field: str) -> str:
        column = header.columns.get(field)
        return cells[column].strip() if column is not None and column < len(cells) else ""

    event: dict[str, Any] = {"type": "post_metrics", "campaign_id": campaign_id}
    errors: list[FieldError] = []
    # A handle copied with its "@" is still the creator; the contract's ids cannot start with one.
    event["creator_id"] = cell("creator_id").removeprefix("@")
    # Exports write "Instagram", "TikTok"; the contract's platform names are lower case.
    event["platform"] = cell("platform").lower()
    event["post_id"] = cell("post_id")
    for field in COUNTS:
        text = cell(field)
        if not text:
            if field in OPTIONAL_COUNTS:
                event[field] = 0
            else:
                errors.append(FieldError(index=index, field=field, reason="is empty"))
            continue
        try:
            event[field] = parse_count(text)
        except ValueError as exc:
            errors.append(FieldError(index=index, field=field, reason=str(exc)))
    for field in TIMES:
        try:
            event[field] = _rfc3339(parse_time(cell(field), zone))
        except ValueError as exc:
            errors.append(FieldError(index=index, field=field, reason=str(exc)))
    if errors:
        return errors
    observed = datetime.fromisoformat(event["observed_at"]).astimezone(UTC)
    event["event_id"] = f"{event['post_id']}@{_rfc3339(observed)}"
    return event


def sniff_delimiter(first_line: str) -> str:
    """The header's separator: spreadsheets in locales with a decimal comma write `;`."""
    return max(DELIMITERS, key=first_line.count)


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def read_rows(
    lines: Iterable[str], campaign_id: str, zone: tzinfo | None, chunk_size: int = 5_000
) -> tuple[Header, Iterator[Chunk]]:
    """The header and the data rows in chunks; positions are row numbers, the header being row 1."""
    try:
        _IDENTIFIER.validate_python(campaign_id)
    except ValidationError:
        raise CsvFileError(f"--campaign {campaign_id!r} is not a valid campaign id") from None
    remaining = iter(lines)
    first = next(remaining, "").removeprefix("\ufeff")
    rows = csv.reader(chain([first], remaining), delimiter=sniff_delimiter(first))
    names = next(rows, [])
    header = read_header(names)

    def chunks() -> Iterator[Chunk]:
        # Blank rows are skipped but counted, so that row numbers match the spreadsheet's.
        numbered = ((n, cells) for n, cells in enumerate(rows, 2) if not _blank(cells))
        while chunk := list(islice(numbered, chunk_size)):
            items: list[Any] = []
            unreadable: list[FieldError] = []
            for index, (_, cells) in enumerate(chunk):
                extra = [c for c in cells[len(names) :] if c.strip()]
                read = (
                    [FieldError(index=index, field="(row)", reason="more cells than the header")]
                    if extra
                    else row_to_event(cells, header, campaign_id, zone, index)
                )
                if isinstance(read, list):
                    items.append(None)
                    unreadable.extend(read)
                else:
                    items.append(read)
            yield Chunk(items, unreadable, [n for n, _ in chunk])

    return header, chunks()


def import_csv(
    path: Path, campaign_id: str, settings: IngestSettings, zone: tzinfo | None = None
) -> tuple[int, int, list[str]]:
    """Import a CSV file; return (accepted, rejected, ignored columns).

    Each rejected row is reported on stderr as ``row N: column: reason``.
    """
    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark.
    with path.open(encoding="utf-8-sig", newline="") as lines:
        try:
            header, chunks = read_rows(lines, campaign_id, zone)
            accepted, rejected = produce(
                chunks,
                settings,
                path.name,
                lambda row, error: f"row {row}: {header.label(error.field)}: {error.reason}",
            )
        except UnicodeDecodeError as exc:
            raise CsvFileError(f"not UTF-8 ({exc.reason}): save it as CSV UTF-8") from None
        except csv.Error as exc:
            raise CsvFileError(f"not a readable CSV file: {exc}") from None
    return accepted, rejected, header.ignored
