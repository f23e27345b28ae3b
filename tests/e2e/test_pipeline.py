"""Events in over HTTP, exact totals out of the API — through Kafka, Faust and the database."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.e2e.events import Expected, messy_campaign
from tests.e2e.harness import RunningStack, eventually

pytestmark = pytest.mark.e2e


def as_expected(view: dict[str, Any]) -> dict[str, Any]:
    totals = view["totals"]
    return {
        "views": totals["views"],
        "likes": totals["likes"],
        "comments": totals["comments"],
        "shares": totals["shares"],
        "saves": totals["saves"],
        "engagements": totals["engagements"],
        "spend_cents": round(totals["spend"] * 100),
        "conversions": totals["conversions"],
        "new_customers": totals["new_customers"],
        "revenue_cents": round(totals["revenue"] * 100),
    }


def totals_match(stack: RunningStack, campaign_id: str, expected: Expected) -> bool:
    view = stack.campaign(campaign_id)
    return view is not None and as_expected(view) == expected.totals(campaign_id)


def send_in_chunks(stack: RunningStack, events: list[dict[str, Any]], size: int) -> None:
    for start in range(0, len(events), size):
        response = stack.send(events[start : start + size])
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == 0


def test_messy_input_gives_exact_totals(shared_stack: RunningStack) -> None:
    events, expected = messy_campaign("launch", creators=4, posts=3, seed=1)
    half = len(events) // 2
    send_in_chunks(shared_stack, events[:half], size=37)
    ndjson = b"\n".join(orjson.dumps(e) for e in events[half:])
    response = shared_stack.ingest.post(
        "/v1/events", content=ndjson, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": len(events) - half, "rejected": 0, "errors": []}

    eventually(lambda: totals_match(shared_stack, "launch", expected))
    campaign = shared_stack.campaign("launch")
    assert campaign is not None
    assert set(campaign["totals"]) == {
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "engagements",
        "engagement_rate_by_views",
        "spend",
        "conversions",
        "new_customers",
        "revenue",
        "cac",
        "roas",
    }
    totals = expected.totals("launch")
    assert campaign["totals"]["engagement_rate_by_views"] == pytest.approx(
        totals["engagements"] / totals["views"]
    )
    assert campaign["totals"]["cac"] == pytest.approx(
        totals["spend_cents"] / 100 / totals["new_customers"]
    )
    assert campaign["creators"] == 4
    assert set(campaign["windows"]) == {"24h", "7d"}
    assert campaign["status"] in ("healthy", "watch", "decaying", "insufficient_data")

    for c in range(4):
        creator = shared_stack.creator("launch", f"creator-{c}")
        assert creator is not None
        assert as_expected(creator) == expected.totals("launch", f"creator-{c}")

    # Sending the whole lot again changes nothing.
    send_in_chunks(shared_stack, events, size=500)
    marker, marker_expected = messy_campaign("marker", creators=1, posts=1, seed=2)
    send_in_chunks(shared_stack, marker, size=500)
    eventually(lambda: totals_match(shared_stack, "marker", marker_expected))
    assert totals_match(shared_stack, "launch", expected)


def test_rejected_items_are_named_and_never_counted(shared_stack: RunningStack) -> None:
    events, expected = messy_campaign("strict", creators=1, posts=1, seed=3)
    good = next(e for e in events if e["type"] == "post_metrics")
    bad = [
        {**good, "views": -1},
        {**good, "likes": "12"},
        {**good, "surprise": True},
        {**good, "observed_at": "2026-01-01T00:00:00"},
        {**good, "posted_at": "2099-01-01T00:00:00Z", "observed_at": "2099-01-02T00:00:00Z"},
        {**good, "type": "tweet"},
        {key: value for key, value in good.items() if key != "post_id"},
    ]
    response = shared_stack.send([*bad, *events])
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == len(events)
    assert body["rejected"] == len(bad)
    by_index = {(e["index"], e["field"]): e["reason"] for e in body["errors"]}
    assert "greater than or equal to 0" in by_index[(0, "views")]
    assert "integer" in by_index[(1, "likes")]
    assert by_index[(2, "surprise")] == "unknown field"
    assert "timezone" in by_index[(3, "observed_at")]
    assert "future" in by_index[(4, "observed_at")]
    assert "unknown event type" in by_index[(5, "type")]
    assert by_index[(6, "post_id")] == "required field is missing"

    only_bad = shared_stack.send(bad)
    assert only_bad.status_code == 422
    assert only_bad.json()["accepted"] == 0

    eventually(lambda: totals_match(shared_stack, "strict", expected))
    mixed = [
        {**e, "event_id": f"{e['event_id']}-eur", "currency": "EUR"}
        for e in events
        if e["type"] != "post_metrics"
    ]
    mixed_response = shared_stack.send(mixed)
    assert mixed_response.status_code == 422
    assert {e["field"] for e in mixed_response.json()["errors"]} == {"currency"}
    assert "USD" in mixed_response.json()["errors"][0]["reason"]


def test_unknown_ids_are_404_with_a_message(shared_stack: RunningStack) -> None:
    missing = shared_stack.api.get("/v1/campaigns/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]


def test_oversized_body_is_413(shared_stack: RunningStack) -> None:
    response = shared_stack.ingest.post(
        "/v1/events",
        content=b"[" + b" " * (9 * 1024 * 1024) + b"]",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
