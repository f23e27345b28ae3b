"""Databases for the storage and API tests, and status views built by the real domain code.

Every test runs twice: against PostgreSQL and against SQLite. PostgreSQL is, in order of
preference, ``DATABASE_URL`` if set, a testcontainers PostgreSQL when a Docker engine answers, or a
fresh database created on the local server at 127.0.0.1:5432 (user postgres, trust auth) and
dropped after the session. Its tables are emptied before each test; SQLite is a new file each time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from psycopg import sql
from sqlalchemy import Engine, delete

from services.api.app import create_app
from services.api.settings import ApiSettings
from services.domain.events import Conversion, PostMetrics, Spend
from services.domain.keys import Scope
from services.domain.state import CampaignState, CreatorState, Outcome, apply_event
from services.domain.views import CampaignView, CreatorView, Reason, campaign_view, creator_view
from services.service_layer.access import issue_key
from services.storage.db import make_engine, migrate
from services.storage.models import CampaignStatus, CreatorStatus
from services.storage.repository import STATUS_ORDER, StatusRepository
from services.storage.rollups import DailyRollupRow, PostFiguresRow
from tests.containers import docker_answers

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

Shape = Literal["healthy", "watch", "decaying", "insufficient_data"]
BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]

# Likes per 10,000 views in the last day, against 1,000 per 10,000 views in the six days before:
# a 0 %, -25 % and -50 % change in engagement rate by views.
_RECENT_LIKES: Mapping[Shape, int] = {"healthy": 1_000, "watch": 750, "decaying": 500}
START = datetime(2025, 3, 1, tzinfo=UTC)
UPDATED_AT = datetime(2025, 3, 8, 12, tzinfo=UTC)
MONTH = 30 * 86_400
ADMIN = frozenset({Scope.ADMIN})


def _local_database() -> Iterator[str]:
    name = f"pulse_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(LOCAL_POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield LOCAL_POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
    elif docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as postgres:
            yield postgres.get_connection_url()
    else:
        yield from _local_database()


def _emptied(url: str) -> str:
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(delete(CreatorStatus))
            connection.execute(delete(CampaignStatus))
            connection.execute(delete(DailyRollupRow))
            connection.execute(delete(PostFiguresRow))
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'pulse.db'}"
    return _emptied(request.getfixturevalue("postgresql_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def repository(engine: Engine) -> StatusRepository:
    return StatusRepository(engine)


@dataclass(frozen=True)
class Profile:
    """Who a built creator is and what it cost and brought (defaults: every creator alike)."""

    followers: int = 40_000
    platform: str = "instagram"
    spend: int = 250
    new_customers: int = 0
    posted_at: datetime = START


def _snapshot(
    campaign_id: str, creator_id: str, at: datetime, views: int, likes: int, profile: Profile
) -> PostMetrics:
    return PostMetrics(
        type="post_metrics",
        event_id=f"{creator_id}-{at.timestamp():.0f}",
        campaign_id=campaign_id,
        creator_id=creator_id,
        platform=profile.platform,
        post_id=f"{creator_id}-post",
        observed_at=at,
        posted_at=profile.posted_at,
        followers=profile.followers,
        views=views,
        likes=likes,
        comments=0,
        shares=0,
        saves=0,
        clicks=0,
    )


def _creator_state(
    campaign: CampaignState, creator_id: str, shape: Shape, currency: str | None, profile: Profile
) -> CreatorState:
    """A creator with one post: 10,000 views on day one, then 10,000 more on day seven."""
    creator = CreatorState(campaign.campaign_id, creator_id)
    first, last = START + timedelta(hours=1), START + timedelta(days=6, hours=12)
    cid = campaign.campaign_id
    if shape == "insufficient_data":
        events: list[PostMetrics | Spend | Conversion] = [
            _snapshot(cid, creator_id, first, 100, 10, profile),
        ]
    else:
        events = [
            _snapshot(cid, creator_id, first, 10_000, 1_000, profile),
            _snapshot(cid, creator_id, last, 20_000, 1_000 + _RECENT_LIKES[shape], profile),
        ]
    if currency is not None:
        events.append(
            Spend(
                type="spend",
                event_id=f"{creator_id}-fee",
                campaign_id=cid,
                creator_id=creator_id,
                occurred_at=first,
                amount=Decimal(profile.spend),
                currency=currency,
            )
        )
        events += [
            Conversion(
                type="conversion",
                event_id=f"{creator_id}-order-{n}",
                campaign_id=cid,
                creator_id=creator_id,
                occurred_at=first + timedelta(minutes=n),
                revenue=Decimal(40),
                currency=currency,
                new_customer=True,
            )
            for n in range(profile.new_customers)
        ]
    for event in events:
        applied = apply_event(
            campaign, creator, event, allowed_lateness=30 * 86_400, retention=30 * 86_400
        )
        assert applied.outcome is Outcome.APPLIED, applied.reason
    return creator


def _reasons(shape: Shape) -> list[Reason]:
    drop = {"watch": -0.25, "decaying": -0.5}.get(shape)
    if drop is None:
        return []
    return [
        Reason(
            kind="engagement_rate_drop",
            metric="engagement_rate_by_views",
            baseline=0.1,
            current=0.1 * (1 + drop),
            relative_change=drop,
            window="24h",
        )
    ]


def build_views(
    campaign_id: str,
    creators: Mapping[str, Shape],
    currency: str | None = "USD",
    updated_at: datetime = UPDATED_AT,
    status: Shape | None = None,
    profiles: Mapping[str, Profile] | None = None,
) -> tuple[CampaignView, list[CreatorView]]:
    """A campaign's view and its creators' views, each creator with the given status and
    ``profiles`` (followers, platform, spend, new customers; by creator id, default ``Profile()``).

    Figures come from real state; the statuses are given (the detector has its own tests), and the
    campaign takes ``status`` or else its worst creator's.
    """
    campaign = CampaignState(campaign_id)
    found = profiles or {}
    states = [
        _creator_state(campaign, cid, shape, currency, found.get(cid, Profile()))
        for cid, shape in creators.items()
    ]
    creator_views = [
        creator_view(state, campaign.watermark, shape, _reasons(shape), updated_at)
        for state, shape in zip(states, creators.values(), strict=True)
    ]
    worst: Shape = min(creators.values(), key=STATUS_ORDER.index, default="insufficient_data")
    campaign_status = status if status is not None else worst
    view = campaign_view(
        campaign_id,
        campaign.currency,
        states,
        campaign.watermark,
        campaign_status,
        _reasons(campaign_status),
        updated_at,
    )
    return view, creator_views


@pytest.fixture
def views() -> BuildViews:
    return build_views


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    """The API on the test database, started (so migrated) for the test; a module that tests
    another app overrides this fixture."""
    app = create_app(ApiSettings.model_validate({"DATABASE_URL": database_url}))
    async with app.router.lifespan_context(app):
        yield app


def bearer(app: FastAPI, scopes: frozenset[Scope] = ADMIN, name: str = "tests") -> dict[str, str]:
    """The header of a new key made on the app's database, as ``pulse keys create`` makes it."""
    issued = issue_key(app.state.keys, f"{name}-{uuid.uuid4().hex[:6]}", scopes)
    return {"Authorization": f"Bearer {issued.key}"}


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app holding an admin key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://pulse.test", headers=bearer(app)
    ) as client:
        yield client


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with no key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as client:
        yield client
