"""Reads and writes of the latest campaign and creator statuses."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Case,
    Connection,
    Engine,
    Insert,
    Text,
    bindparam,
    case,
    cast,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from services.domain.creator_value import CreatorCampaign
from services.domain.views import CampaignView, CreatorView, StatusName
from services.storage.models import Base, CampaignStatus, CreatorStatus

STATUS_ORDER: tuple[StatusName, ...] = ("decaying", "watch", "healthy", "insufficient_data")
"""Worst first: the order lists are sorted in."""

_IN_CHUNK = 1_000

# Bodies are read as the JSON text they are stored as and validated by pydantic in one step: the
# JSON column's own decoding into dicts costs more than the validation itself. The lookups by key
# are built once, so each request skips building and cache-keying a statement.
_CAMPAIGN_BODY = cast(CampaignStatus.body, Text)
_CREATOR_BODY = cast(CreatorStatus.body, Text)
_ONE_CAMPAIGN = select(_CAMPAIGN_BODY).where(CampaignStatus.campaign_id == bindparam("campaign_id"))
_ONE_CREATOR = select(_CREATOR_BODY).where(
    CreatorStatus.campaign_id == bindparam("campaign_id"),
    CreatorStatus.creator_id == bindparam("creator_id"),
)


def _status_rank(column: InstrumentedAttribute[str]) -> Case[int]:
    return case(
        {name: rank for rank, name in enumerate(STATUS_ORDER)},
        value=column,
        else_=len(STATUS_ORDER),
    )


def _stored_status(stored: str | None) -> StatusName | None:
    return typing.cast(StatusName | None, stored)


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None


def _campaign_row(view: CampaignView) -> dict[str, Any]:
    return {
        "campaign_id": view.campaign_id,
        "status": view.status,
        "currency": view.currency,
        "as_of": _utc(view.as_of),
        "updated_at": _utc(view.updated_at),
        "body": view.model_dump(mode="json"),
    }


def _creator_row(view: CreatorView) -> dict[str, Any]:
    return {
        "campaign_id": view.campaign_id,
        "creator_id": view.creator_id,
        "status": view.status,
        "as_of": _utc(view.as_of),
        "updated_at": _utc(view.updated_at),
        "body": view.model_dump(mode="json"),
    }


def upsert(connection: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert the rows, overwriting those whose primary key exists (PostgreSQL or SQLite)."""
    if not rows:
        return
    dialect = connection.dialect.name
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(model)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model)
    else:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")
    mapper = inspect(model)
    keys = [c.name for c in mapper.primary_key]
    updated = {c.name: stmt.excluded[c.name] for c in mapper.columns if c.name not in keys}
    statement: Insert = stmt.on_conflict_do_update(index_elements=keys, set_=updated)
    connection.execute(statement, rows)


class StatusRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def save(self, campaigns: Sequence[CampaignView], creators: Sequence[CreatorView]) -> None:
        """Insert or overwrite every given row, all in one transaction."""
        if not campaigns and not creators:
            return
        # A key twice in one batch would make PostgreSQL's ON CONFLICT fail; the last one wins.
        campaign_rows = {v.campaign_id: _campaign_row(v) for v in campaigns}
        creator_rows = {(v.campaign_id, v.creator_id): _creator_row(v) for v in creators}
        with self._engine.begin() as connection:
            upsert(connection, CampaignStatus, list(campaign_rows.values()))
            upsert(connection, CreatorStatus, list(creator_rows.values()))

    def list_campaigns(
        self, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[CampaignView], int]:
        """A page of campaigns, worst status first, and how many match in all."""
        page = select(_CAMPAIGN_BODY).order_by(
            _status_rank(CampaignStatus.status), CampaignStatus.campaign_id
        )
        count = select(func.count()).select_from(CampaignStatus)
        if status is not None:
            page = page.where(CampaignStatus.status == status)
            count = count.where(CampaignStatus.status == status)
        with self._engine.connect() as connection:
            bodies = connection.scalars(page.limit(limit).offset(offset)).all()
            total = connection.scalar(count) or 0
        return [CampaignView.model_validate_json(b) for b in bodies], total

    def campaign_json(self, campaign_id: str) -> str | None:
        """The campaign's stored ``CampaignView`` as the JSON text it was written as."""
        with self._engine.connect() as connection:
            body: str | None = connection.execute(
                _ONE_CAMPAIGN, {"campaign_id": campaign_id}
            ).scalar()
        return body

    def get_campaign(self, campaign_id: str) -> CampaignView | None:
        body = self.campaign_json(campaign_id)
        return CampaignView.model_validate_json(body) if body is not None else None

    def list_creators(self, campaign_id: str) -> list[CreatorView]:
        """A campaign's creators, worst status first."""
        query = (
            select(_CREATOR_BODY)
            .where(CreatorStatus.campaign_id == campaign_id)
            .order_by(_status_rank(CreatorStatus.status), CreatorStatus.creator_id)
        )
        with self._engine.connect() as connection:
            bodies = connection.scalars(query).all()
        return [CreatorView.model_validate_json(b) for b in bodies]

    def get_creator(self, campaign_id: str, creator_id: str) -> CreatorView | None:
        parameters = {"campaign_id": campaign_id, "creator_id": creator_id}
        with self._engine.connect() as connection:
            body = connection.execute(_ONE_CREATOR, parameters).scalar()
        return CreatorView.model_validate_json(body) if body is not None else None

    def creator_campaigns(
        self,
        creator_id: str | None = None,
        campaign_id: str | None = None,
        since: datetime | None = None,
    ) -> list[CreatorCampaign]:
        """Creators' stored views with their campaign's currency and status: one creator's (every
        campaign they worked on), one campaign's, or everyone's; ``since`` keeps those with data
        at or after that event time."""
        query = (
            select(_CREATOR_BODY, CampaignStatus.currency, CampaignStatus.status)
            .outerjoin(CampaignStatus, CampaignStatus.campaign_id == CreatorStatus.campaign_id)
            .order_by(CreatorStatus.campaign_id, CreatorStatus.creator_id)
        )
        if creator_id is not None:
            query = query.where(CreatorStatus.creator_id == creator_id)
        if campaign_id is not None:
            query = query.where(CreatorStatus.campaign_id == campaign_id)
        if since is not None:
            query = query.where(CreatorStatus.as_of >= since.astimezone(UTC))
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        # The status column is copied from a validated view, so it holds a StatusName.
        return [
            CreatorCampaign(
                CreatorView.model_validate_json(body), currency, _stored_status(campaign_status)
            )
            for body, currency, campaign_status in rows
        ]

    def campaign_currencies(self, campaign_ids: Iterable[str]) -> dict[str, str]:
        """The currency of each given campaign that has one."""
        ids = sorted(set(campaign_ids))
        found: dict[str, str] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(ids), _IN_CHUNK):
                query = select(CampaignStatus.campaign_id, CampaignStatus.currency).where(
                    CampaignStatus.campaign_id.in_(ids[start : start + _IN_CHUNK]),
                    CampaignStatus.currency.is_not(None),
                )
                found.update(
                    {cid: cur for cid, cur in connection.execute(query) if cur is not None}
                )
        return found

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
