"""Reading spreadsheets of post metrics: columns and aliases, numbers, times, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.domain.events import FieldError
from services.ingest.app import validate_items
from services.ingest.csv_import import (
    COLUMNS,
    CsvFileError,
    Header,
    parse_count,
    read_header,
    read_rows,
)

HEADER = ",".join(COLUMNS)
ROW = "ana,instagram,p1,2026-05-01T08:00:00Z,2026-05-01T12:00:00Z,12000,3000,150,15,6,9,30"


def _rows(text: str, zone: ZoneInfo | None = None) -> tuple[Header, list[Any], list[FieldError]]:
    """Every data row read and then validated as backfill validates: (header, items, errors) with
    each error's index replaced by its row number."""
    header, chunks = read_rows(text.splitlines(keepends=True), "spring", zone)
    items: list[Any] = []
    errors: list[FieldError] = []
    for chunk in chunks:
        now = datetime(2026, 6, 1, tzinfo=UTC)
        _, found = validate_items(chunk.items, chunk.unreadable, {}, now, timedelta(minutes=5))
        items += chunk.items
        errors += [e.model_copy(update={"index": chunk.positions[e.index]}) for e in found]
    return header, items, errors


def test_documented_columns_make_the_contracts_event_with_a_stable_id() -> None:
    _, items, errors = _rows(f"{HEADER}\n{ROW}\n")

    assert errors == []
    assert items == [
        {
            "type": "post_metrics",
            "event_id": "p1@2026-05-01T12:00:00Z",
            "campaign_id": "spring",
            "creator_id": "ana",
            "platform": "instagram",
            "post_id": "p1",
            "posted_at": "2026-05-01T08:00:00Z",
            "observed_at": "2026-05-01T12:00:00Z",
            "followers": 12000,
            "views": 3000,
            "likes": 150,
            "comments": 15,
            "shares": 6,
            "saves": 9,
            "clicks": 30,
        }
    ]


def test_platform_export_names_in_any_case_and_spacing_are_accepted() -> None:
    header = read_header(
        [
            "Username",
            "PLATFORM",
            "Media ID",
            "Publish time",
            "Data as of",
            "Follower count",
            "Video views",
            "Like count",
            "comments_count",
            "Share Count",
            "Saved",
            "Link clicks",
            "Reach",
            "Impressions",
        ]
    )

    assert set(header.columns) == set(COLUMNS)
    assert header.labels["views"] == "Video views"
    assert header.ignored == ["Reach", "Impressions"]
    youtube = ["Creator", "Platform", "Video ID", "Date posted", "Observed", "Subscribers"]
    assert read_header([*youtube, "Plays", "Likes", "Comments"]).columns["post_id"] == 2


def test_missing_optional_counts_are_zero_and_missing_required_columns_refuse_the_file() -> None:
    text = "creator_id,platform,post_id,posted_at,observed_at,followers,views,likes,comments\n"
    _, items, errors = _rows(text + "ana,tiktok,v1,2026-05-01T08:00Z,2026-05-01T12:00Z,1,2,3,4\n")
    assert errors == []
    assert (items[0]["shares"], items[0]["saves"], items[0]["clicks"]) == (0, 0, 0)

    with pytest.raises(CsvFileError, match=r"missing column.*likes.*like count"):
        read_header(["creator_id", "platform", "post_id", "posted_at", "observed_at", "followers"])
    with pytest.raises(CsvFileError, match="'views' and 'Plays' are both views"):
        read_header([*COLUMNS, "Plays"])


@pytest.mark.parametrize(
    ("text", "count"),
    [("1234", 1234), ("1,234", 1234), ("1.234.567", 1234567), ("1 234", 1234), (" 7 ", 7)],
)
def test_counts_accept_thousands_separators(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["1,23", "1.5", "1.2K", "12,34,567", "1,234.567", "abc"])
def test_counts_that_are_not_whole_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        parse_count(text)


def test_naive_times_are_refused_unless_a_timezone_is_given() -> None:
    row = "ana,instagram,p1,2026-05-01 08:00,2026-05-01 12:00,1,2,3,4,5,6,7\n"

    _, _, errors = _rows(f"{HEADER}\n{row}")
    assert [(e.index, e.field) for e in errors] == [(2, "posted_at"), (2, "observed_at")]
    assert "no time zone" in errors[0].reason and "--timezone" in errors[0].reason

    _, items, errors = _rows(f"{HEADER}\n{row}", ZoneInfo("Europe/Berlin"))
    assert errors == []
    assert items[0]["observed_at"] == "2026-05-01T12:00:00+02:00"
    # The same instant written in another zone is the same snapshot, with the same id.
    assert items[0]["event_id"] == "p1@2026-05-01T10:00:00Z"


def test_each_bad_row_is_named_by_row_column_and_reason_and_good_rows_still_read() -> None:
    text = (
        "Username;Platform;Video ID;Publish time;Observed at;Followers;Views;Likes;Comments\n"
        "ana;TikTok;v1;2026-05-01T08:00Z;2026-05-01T12:00Z;1.000;2.500;30;4\n"
        "\n"
        "bo;tiktok;v2;2026-05-01T08:00Z;2026-05-01T12:00Z;1000;lots;30;4\n"
        "cy;tiktok;v3;2026-05-01T08:00Z;2026-05-01T07:00Z;1000;10;-3;4\n"
        "dee;tiktok;v4;05/01/2026;2026-05-01T12:00Z;1000;10;;4\n"
        ";;;;;;;;\n"
        "@eve;tiktok;v5;2026-05-01T08:00Z;2026-05-01T12:00Z;1000;10;3;4;extra\n"
        "@fay;tiktok;v6;2026-05-01T08:00Z;2026-05-01T12:00Z;1000;10;3;4\n"
    )

    header, items, errors = _rows(text)

    assert header.label("event_id") == "Video ID"
    valid = [item for item in items if item is not None]
    assert [(item["creator_id"], item["platform"]) for item in valid] == [
        ("ana", "tiktok"),
        ("cy", "tiktok"),  # read, then refused by the contract: see the errors
        ("fay", "tiktok"),
    ]
    assert (valid[0]["followers"], valid[0]["views"]) == (1000, 2500)
    assert [(e.index, header.label(e.field)) for e in errors] == [
        (4, "Views"),
        (5, "Observed at"),
        (5, "Likes"),
        (6, "Likes"),
        (6, "Publish time"),
        (8, "(row)"),
    ]
    reasons = {(e.index, e.field): e.reason for e in errors}
    assert reasons[4, "views"] == "'lots' is not a whole number"
    assert "greater than or equal to 0" in reasons[5, "likes"]
    assert "before posted_at" in reasons[5, "observed_at"]
    assert "not an ISO 8601 time" in reasons[6, "posted_at"]
    assert reasons[6, "likes"] == "is empty"
    assert reasons[8, "(row)"] == "more cells than the header"


def test_an_excel_utf8_file_with_a_byte_order_mark_and_quoted_cells_reads() -> None:
    row = '"ana",instagram,p1,2026-05-01T08:00Z,2026-05-01T12:00Z,"12,000",1,2,3,4,5,6'
    text = f"\ufeff{HEADER}\n{row}\n"

    header, items, errors = _rows(text)

    assert errors == [] and header.labels["creator_id"] == "creator_id"
    assert items[0]["followers"] == 12000


def test_a_bad_campaign_id_refuses_the_file() -> None:
    with pytest.raises(CsvFileError, match="not a valid campaign id"):
        read_rows([HEADER], "spring launch", None)
