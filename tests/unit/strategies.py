"""Builders and hypothesis strategies for events and state, shared by the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from services.domain.events import AnyEvent, Conversion, PostMetrics, Spend, parse_event
from services.domain.state import Applied, CampaignState, CreatorState, apply_event
from services.domain.windows import DAY, HOUR

Event = AnyEvent

T0 = datetime(2025, 3, 3, tzinfo=UTC).timestamp()
CAMPAIGN = "camp-1"
CREATOR = "creator-1"
LATENESS = 72 * HOUR
RETENTION = 7 * DAY + LATENESS
FOREVER = 10.0**10

COUNT_FIELDS = ("followers", "views", "likes", "comments", "shares", "saves", "clicks")


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def parsed(raw: dict[str, Any]) -> Event:
    event = parse_event(raw)
    assert not isinstance(event, list), (raw, event)
    return event


def post_metrics_raw(
    *,
    observed_at: float = T0,
    posted_at: float | None = None,
    post_id: str = "post-1",
    creator_id: str = CREATOR,
    campaign_id: str = CAMPAIGN,
    event_id: str | None = None,
    followers: int = 20_000,
    views: int = 0,
    likes: int = 0,
    comments: int = 0,
    shares: int = 0,
    saves: int = 0,
    clicks: int = 0,
) -> dict[str, Any]:
    return {
        "type": "post_metrics",
        "event_id": event_id or f"{post_id}@{observed_at:.6f}",
        "campaign_id": campaign_id,
        "creator_id": creator_id,
        "platform": "instagram",
        "post_id": post_id,
        "observed_at": iso(observed_at),
        "posted_at": iso(T0 - DAY if posted_at is None else posted_at),
        "followers": followers,
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        "clicks": clicks,
    }


def spend_raw(
    event_id: str,
    *,
    occurred_at: float = T0,
    amount: str = "10",
    currency: str = "USD",
    creator_id: str = CREATOR,
    campaign_id: str = CAMPAIGN,
) -> dict[str, Any]:
    return {
        "type": "spend",
        "event_id": event_id,
        "campaign_id": campaign_id,
        "creator_id": creator_id,
        "occurred_at": iso(occurred_at),
        "amount": amount,
        "currency": currency,
    }


def conversion_raw(
    event_id: str,
    *,
    occurred_at: float = T0,
    revenue: str = "50",
    new_customer: bool = True,
    currency: str = "USD",
    creator_id: str = CREATOR,
    campaign_id: str = CAMPAIGN,
) -> dict[str, Any]:
    return {
        "type": "conversion",
        "event_id": event_id,
        "campaign_id": campaign_id,
        "creator_id": creator_id,
        "occurred_at": iso(occurred_at),
        "revenue": revenue,
        "currency": currency,
        "new_customer": new_customer,
    }


def snapshot(**kwargs: Any) -> PostMetrics:
    event = parsed(post_metrics_raw(**kwargs))
    assert isinstance(event, PostMetrics)
    return event


def spend(event_id: str, **kwargs: Any) -> Spend:
    event = parsed(spend_raw(event_id, **kwargs))
    assert isinstance(event, Spend)
    return event


def conversion(event_id: str, **kwargs: Any) -> Conversion:
    event = parsed(conversion_raw(event_id, **kwargs))
    assert isinstance(event, Conversion)
    return event


def new_state(creator_id: str = CREATOR) -> tuple[CampaignState, CreatorState]:
    return CampaignState(CAMPAIGN), CreatorState(CAMPAIGN, creator_id)


def apply(
    campaign: CampaignState,
    creator: CreatorState,
    event: Event,
    allowed_lateness: float = LATENESS,
    retention: float = RETENTION,
) -> Applied:
    return apply_event(campaign, creator, event, allowed_lateness, retention)


identifiers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}", fullmatch=True)
counts = st.integers(min_value=0, max_value=10**15)
amounts = st.decimals(
    min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False
).map(str)
currencies = st.from_regex(r"[A-Z]{3}", fullmatch=True)
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
event_times = st.datetimes(
    min_value=datetime(2004, 1, 2), max_value=datetime(2035, 1, 1), timezones=offsets
)


@st.composite
def raw_post_metrics(draw: st.DrawFn) -> dict[str, Any]:
    posted_at = draw(event_times)
    observed_at = posted_at + draw(st.timedeltas(timedelta(0), timedelta(days=400)))
    raw: dict[str, Any] = {
        "type": "post_metrics",
        "event_id": draw(identifiers),
        "campaign_id": draw(identifiers),
        "creator_id": draw(identifiers),
        "platform": draw(st.from_regex(r"[a-z][a-z0-9_]{1,31}", fullmatch=True)),
        "post_id": draw(identifiers),
        "observed_at": observed_at.isoformat(),
        "posted_at": posted_at.isoformat(),
    }
    raw.update({name: draw(counts) for name in COUNT_FIELDS})
    return raw


@st.composite
def raw_conversions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "type": "conversion",
        "event_id": draw(identifiers),
        "campaign_id": draw(identifiers),
        "creator_id": draw(identifiers),
        "occurred_at": draw(event_times).isoformat(),
        "revenue": draw(amounts),
        "currency": draw(currencies),
        "new_customer": draw(st.booleans()),
        "kind": draw(st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)),
        "attribution": draw(st.sampled_from(["promo_code", "link", "other"])),
    }


@st.composite
def raw_spends(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "type": "spend",
        "event_id": draw(identifiers),
        "campaign_id": draw(identifiers),
        "creator_id": draw(identifiers),
        "occurred_at": draw(event_times).isoformat(),
        "amount": draw(amounts),
        "currency": draw(currencies),
        "kind": draw(st.sampled_from(["fee", "product", "boost", "other"])),
    }


raw_events = st.one_of(raw_post_metrics(), raw_conversions(), raw_spends())

# Offsets (seconds after T0) of events that stay within a few days of each other.
moments = st.integers(min_value=0, max_value=10 * DAY)
microseconds = st.integers(min_value=0, max_value=999_999).map(lambda us: us / 10**6)
small_counts = st.integers(min_value=0, max_value=10**6)
small_amounts = st.decimals(
    min_value=0, max_value=10**4, places=6, allow_nan=False, allow_infinity=False
).map(str)


@st.composite
def post_histories(draw: st.DrawFn, max_posts: int = 3) -> list[list[PostMetrics]]:
    """Snapshots of up to ``max_posts`` posts of one creator, distinct ``observed_at`` per post."""
    posts = []
    for post in range(draw(st.integers(min_value=1, max_value=max_posts))):
        times = draw(st.lists(moments, min_size=1, max_size=5, unique=True))
        posts.append(
            [
                snapshot(
                    post_id=f"post-{post}",
                    observed_at=T0 + offset + draw(microseconds),
                    followers=draw(small_counts),
                    **{name: draw(small_counts) for name in COUNT_FIELDS[1:]},
                )
                for offset in times
            ]
        )
    return posts


@st.composite
def money_events(draw: st.DrawFn) -> list[Spend | Conversion]:
    """Spend and conversions of one creator, each with its own ``event_id``."""
    found: list[Spend | Conversion] = []
    for index in range(draw(st.integers(min_value=1, max_value=8))):
        at = T0 + draw(moments)
        if draw(st.booleans()):
            found.append(spend(f"spend-{index}", occurred_at=at, amount=draw(small_amounts)))
        else:
            found.append(
                conversion(
                    f"conversion-{index}",
                    occurred_at=at,
                    revenue=draw(small_amounts),
                    new_customer=draw(st.booleans()),
                )
            )
    return found


@st.composite
def deliveries(draw: st.DrawFn, events: list[Any]) -> list[Any]:
    """Every event at least once, some more than once, in any order."""
    extra = draw(st.lists(st.sampled_from(events), max_size=len(events) * 2))
    return draw(st.permutations([*events, *extra]))
