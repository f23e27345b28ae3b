"""`pulse import` against a real broker: valid rows on the topic once, bad rows reported, and a
second import of the same file producing the same event ids."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.cli import main
from services.runtime.topics import campaign_partition
from tests.integration.test_ingest import new_topic, on_topic

pytestmark = pytest.mark.integration

POSTED = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)


def _at(hours: int) -> str:
    return (POSTED + timedelta(hours=hours)).isoformat()


def test_import_twice_puts_each_valid_row_on_the_topic_with_the_same_ids(
    kafka_bootstrap: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = new_topic(kafka_bootstrap)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("PULSE_EVENTS_TOPIC", topic)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    sheet = tmp_path / "export.csv"
    sheet.write_text(
        "\ufeffUsername;Platform;Video ID;Publish time;Observed at;Followers;Video views;Likes;"
        "Comments;Shares;Reach\n"
        f"ana;TikTok;v1;{_at(0)};{_at(4)};12.000;3.000;150;15;6;9000\n"
        f"ana;TikTok;v1;{_at(0)};{_at(8)};12.000;5.500;260;20;9;9000\n"
        f"bo;TikTok;v2;{_at(1)};{_at(0)};8.000;100;5;1;0;90\n"
        f"bo;TikTok;v3;{_at(1)};{_at(4)};8.000;many;5;1;0;90\n"
        f"cy;TikTok;v4;{_at(1)};{_at(4)};20.000;700;40;2;;800\n",
        encoding="utf-8",
    )
    command = ["import", str(sheet), "--campaign", "csv-import"]

    assert main(command) == 1
    first = capsys.readouterr()
    assert first.out.strip() == "accepted 3, rejected 2"
    assert first.err.splitlines() == [
        "row 4: Observed at: is before posted_at: a post cannot be observed before it exists",
        "row 5: Video views: 'many' is not a whole number",
        "ignored columns: Reach",
    ]
    assert main(command) == 1
    assert capsys.readouterr().out.strip() == "accepted 3, rejected 2"

    messages = on_topic(kafka_bootstrap, topic)
    # Ingest's default shape: unkeyed, on the partition the campaign id hashes to.
    assert {(key, partition) for key, partition, _ in messages} == {
        (None, campaign_partition("csv-import", 2))
    }
    events = [event for _, _, batch in messages for event in batch]
    expected_ids = [
        f"{post}@{POSTED + timedelta(hours=hours):%Y-%m-%dT%H:%M:%SZ}"
        for post, hours in (("v1", 4), ("v1", 8), ("v4", 4))
    ]
    # Both imports produced the same three events with the same ids: the monitor keeps one
    # snapshot per post and observed_at, so the second import counts nothing again.
    assert Counter(event["event_id"] for event in events) == Counter(expected_ids * 2)
    assert events[:3] == events[3:]
    assert [(e["views"], e["saves"], e["clicks"]) for e in events[:3]] == [
        (3000, 0, 0),
        (5500, 0, 0),
        (700, 0, 0),
    ]
