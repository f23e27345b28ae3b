"""Registering posts to watch, listing them with their polling state, and unwatching them, on
PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from services.domain.keys import Scope
from services.storage.posts import WatchedPostRepository
from tests.integration.conftest import bearer

POSTED = datetime(2026, 11, 28, 9, tzinfo=UTC)


def _registration(**changes: object) -> dict[str, object]:
    return {
        "platform": "youtube",
        "post": "https://short.youtube.example/-s-_Mh1QhMc",
        "creator_id": "ana",
        "posted_at": "2026-11-28T10:00:00+01:00",
        **changes,
    }


async def test_a_post_is_registered_by_url_listed_with_its_state_and_unwatched(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # Tables other than the statuses are not emptied between tests on PostgreSQL.
    campaign = f"launch-{uuid.uuid4().hex[:8]}"
    created = await client.post(f"/v1/campaigns/{campaign}/posts", json=_registration())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["platform"], body["post_id"], body["creator_id"]) == (
        "youtube",
        "-s-_Mh1QhMc",
        "ana",
    )
    assert datetime.fromisoformat(body["posted_at"]) == POSTED
    assert body["polling"] == "active"
    # Already live: due at once.
    assert datetime.fromisoformat(body["next_poll_at"]) == datetime.fromisoformat(
        body["registered_at"]
    )
    assert (body["last_polled_at"], body["last_error"], body["failures"]) == (None, None, 0)

    again = await client.post(
        f"/v1/campaigns/{campaign}/posts", json=_registration(post="-s-_Mh1QhMc")
    )
    assert again.status_code == 409
    assert "already watches youtube post '-s-_Mh1QhMc'" in again.json()["detail"]

    future = datetime.now(UTC) + timedelta(days=2)
    later = await client.post(
        f"/v1/campaigns/{campaign}/posts",
        json=_registration(
            platform="tiktok", post="7311234567890123456", posted_at=future.isoformat()
        ),
    )
    assert datetime.fromisoformat(later.json()["next_poll_at"]) == future

    listed = (await client.get(f"/v1/campaigns/{campaign}/posts")).json()["items"]
    assert [(p["platform"], p["post_id"]) for p in listed] == [
        ("youtube", "-s-_Mh1QhMc"),
        ("tiktok", "7311234567890123456"),
    ]
    assert (await client.get("/v1/campaigns/other/posts")).json() == {"items": []}

    posts: WatchedPostRepository = app.state.watched_posts
    watched = posts.get(campaign, "youtube", "-s-_Mh1QhMc")
    assert watched is not None
    due_now = [p.post_id for p in posts.due(datetime.now(UTC), 100) if p.campaign_id == campaign]
    assert due_now == ["-s-_Mh1QhMc"]
    due_later = posts.due(future + timedelta(seconds=1), 100)
    assert [p.post_id for p in due_later if p.campaign_id == campaign] == [
        "-s-_Mh1QhMc",
        "7311234567890123456",
    ]
    posts.record_poll(
        watched, POSTED + timedelta(hours=1), None, "youtube: HTTP 500, after 4 attempts"
    )
    failing = (await client.get(f"/v1/campaigns/{campaign}/posts")).json()["items"][0]
    assert (failing["polling"], failing["failures"]) == ("stopped", 1)
    assert failing["last_error"] == "youtube: HTTP 500, after 4 attempts"

    assert (
        await client.delete(f"/v1/campaigns/{campaign}/posts/youtube/-s-_Mh1QhMc")
    ).status_code == 204
    gone = await client.delete(f"/v1/campaigns/{campaign}/posts/youtube/-s-_Mh1QhMc")
    assert gone.status_code == 404
    assert [
        p["post_id"] for p in (await client.get(f"/v1/campaigns/{campaign}/posts")).json()["items"]
    ] == ["7311234567890123456"]


async def test_what_names_no_post_is_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    cases = [
        (
            _registration(
                platform="instagram", post="https://www.instagram.example/p/C1a2b3c4d5E/"
            ),
            "post",
            "shortcode",
        ),
        (_registration(post="https://www.youtube.example/channel/UCabc"), "post", "not a YouTube"),
        (_registration(platform="myspace"), "platform", "Input should be"),
        (_registration(creator_id="-ana"), "creator_id", "String should match"),
        (_registration(posted_at="2026-11-28T10:00:00"), "posted_at", "timezone"),
        (_registration(posted_at="1999-01-01T00:00:00Z"), "posted_at", "not a real post time"),
        (_registration(posted_at="9999-12-31T23:59:59-14:00"), "posted_at", "a year ahead"),
    ]
    for body, field, reason in cases:
        response = await client.post("/v1/campaigns/launch/posts", json=body)
        assert response.status_code == 422, (body, response.text)
        detail = response.json()["detail"]
        assert [d["loc"][-1] for d in detail] == [field], detail
        assert reason in detail[0]["msg"], detail


async def test_watching_needs_campaigns_write(app: FastAPI, anonymous: httpx.AsyncClient) -> None:
    reader = bearer(app, frozenset({Scope.CAMPAIGNS_READ}))
    refused = await anonymous.post(
        "/v1/campaigns/launch/posts", json=_registration(), headers=reader
    )
    assert refused.status_code == 403
    assert "campaigns:write" in refused.json()["detail"]
    assert (await anonymous.get("/v1/campaigns/launch/posts", headers=reader)).status_code == 200
    deleted = await anonymous.delete("/v1/campaigns/launch/posts/youtube/x", headers=reader)
    assert deleted.status_code == 403
