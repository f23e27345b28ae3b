"""Posts a campaign watches on the platforms: `pulse poll` fetches their insights on a schedule.

A post is named by its platform's id or its URL (``services.domain.post_refs`` turns the URL forms
of each platform into the id, and says why it cannot). A new post is due at once, or when it goes
live if ``posted_at`` is ahead; the poller then follows its schedule, so a post registered after
its schedule ended is polled once.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from services.api.deps import Audit, CampaignsReader, CampaignsWriter, WatchedPosts
from services.api.routes.configs import CampaignId
from services.domain.events import EARLIEST_EVENT_TIME, Identifier
from services.domain.post_refs import Platform, PostReferenceError, post_id_from
from services.storage.posts import WatchedPost

router = APIRouter(tags=["posts"])

# A post scheduled further ahead is a typo (a year off), and would be polled that far ahead.
LATEST_SCHEDULED_POST = timedelta(days=366)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "the campaign does not watch that post"}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {"description": "the campaign already watches that post"}
}


class PostRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    post: str = Field(
        min_length=1,
        max_length=2048,
        description="The platform's post id, or the post's URL (TikTok, YouTube; Instagram "
        "needs the Graph API media id).",
    )
    creator_id: Identifier
    posted_at: AwareDatetime = Field(description="When the post went live (RFC 3339, with zone).")

    @field_validator("posted_at")
    @classmethod
    def _real_time(cls, value: datetime) -> datetime:
        if value < EARLIEST_EVENT_TIME:
            raise ValueError(f"is before {EARLIEST_EVENT_TIME.date()}: not a real post time")
        if value > datetime.now(UTC) + LATEST_SCHEDULED_POST:
            raise ValueError("is more than a year ahead: not a scheduled post time")
        return value


class WatchedPostOut(BaseModel):
    campaign_id: str
    platform: Platform
    post_id: str
    creator_id: str
    posted_at: datetime
    registered_at: datetime
    polling: Literal["active", "stopped"] = Field(
        description="`stopped` once the post is past its polling schedule."
    )
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None = Field(description="When its insights last arrived.")
    last_error: str | None = Field(description="What went wrong in the latest poll, if it did.")
    failures: int = Field(description="Polls in a row that failed.")


class WatchedPostList(BaseModel):
    items: list[WatchedPostOut]


def _out(post: WatchedPost) -> WatchedPostOut:
    polling: Literal["active", "stopped"] = "active" if post.next_poll_at is not None else "stopped"
    return WatchedPostOut(polling=polling, **asdict(post))


@router.post(
    "/v1/campaigns/{campaign_id}/posts",
    response_model=WatchedPostOut,
    status_code=status.HTTP_201_CREATED,
    responses=_CONFLICT,
)
async def register_post(
    campaign_id: CampaignId,
    body: PostRegistration,
    principal: CampaignsWriter,
    posts: WatchedPosts,
    audit: Audit,
) -> WatchedPostOut:
    """Watch a post: `pulse poll` fetches its insights on the polling schedule."""
    try:
        post_id = post_id_from(body.platform, body.post)
    except PostReferenceError as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "post"),
                    "msg": str(exc),
                    "type": "post_reference",
                    "input": body.post,
                }
            ]
        ) from exc
    now = datetime.now(UTC)
    post = WatchedPost(
        campaign_id=campaign_id,
        platform=body.platform,
        post_id=post_id,
        creator_id=body.creator_id,
        posted_at=body.posted_at.astimezone(UTC),
        registered_at=now,
        next_poll_at=max(now, body.posted_at.astimezone(UTC)),
    )
    if not await run_in_threadpool(posts.register, post):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"campaign '{campaign_id}' already watches {body.platform} post '{post_id}'",
        )
    await run_in_threadpool(
        audit.record,
        principal.name,
        principal.key_id,
        "post.watch",
        f"{campaign_id}/{body.platform}/{post_id}",
    )
    return _out(post)


@router.get("/v1/campaigns/{campaign_id}/posts", response_model=WatchedPostList)
def list_posts(campaign_id: CampaignId, _: CampaignsReader, posts: WatchedPosts) -> WatchedPostList:
    """The posts a campaign watches, oldest registration first, with their polling state."""
    return WatchedPostList(items=[_out(post) for post in posts.of_campaign(campaign_id)])


@router.delete(
    "/v1/campaigns/{campaign_id}/posts/{platform}/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND,
)
def unwatch_post(
    campaign_id: CampaignId,
    platform: Platform,
    post_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: CampaignsWriter,
    posts: WatchedPosts,
    audit: Audit,
) -> Response:
    """Stop polling a post; the snapshots already sent stay counted."""
    if not posts.delete(campaign_id, platform, post_id):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"campaign '{campaign_id}' does not watch {platform} post '{post_id}'",
        )
    audit.record(
        principal.name, principal.key_id, "post.unwatch", f"{campaign_id}/{platform}/{post_id}"
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
