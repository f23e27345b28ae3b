"""Alerts, the creators they name, and the outbox of their changes.

``alerts`` holds each alert's latest revision; ``body`` is the ``Alert`` as JSON and the other
columns are copied out of it to filter and order. A partial unique index keeps one open (not
resolved) alert per campaign and cause. ``alert_creators`` lists the creators an alert names (as
contributors, or as the creator of a creator-level alert), for the creator filter.

``alert_events`` is the outbox: every new revision of an alert appends a row in the transaction
that writes it, and readers (the webhook notifier, the SSE stream) follow its ids. Rows of kind
``budget.moves`` (``services.storage.budget_moves``) share it, so a webhook gets them in order with
the alerts; the SSE stream reads alert rows only. Writers
serialise (PostgreSQL: a transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``), so ids
become visible in increasing order and a reader never skips one by reading past it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from services.domain import alerting
from services.domain.alerts import MONITOR, Alert, AlertState
from services.domain.allocation import Recommendation
from services.storage.db import _SQLITE_BEGIN
from services.storage.models import Base

OPEN = "state != 'resolved'"
_ADVISORY_LOCK_KEY = 0x70756C7365_A1
_IN_CHUNK = 1_000

ALERT_KIND = "alert"

AlertKey = tuple[str, str]
AlertPage = tuple[list[Alert], int]
AlertEvents = list[tuple[int, Alert]]
OutboxEvent = Alert | Recommendation
OutboxEvents = list[tuple[int, OutboxEvent]]


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_open_cause",
            "campaign_id",
            "cause",
            unique=True,
            sqlite_where=text(OPEN),
            postgresql_where=text(OPEN),
        ),
        Index("ix_alerts_campaign_id", "campaign_id", "cause"),
        Index("ix_alerts_opened_at", "opened_at"),
    )

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128))
    # Wide enough for a creator-level cause, ``creator:<creator_id>:<kind>`` (migration 0006).
    cause: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    event_time: Mapped[datetime]
    clear_since: Mapped[datetime | None]
    body: Mapped[dict[str, Any]]


class AlertCreatorRow(Base):
    __tablename__ = "alert_creators"

    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.alert_id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)


class AlertEventRow(Base):
    __tablename__ = "alert_events"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - read by SQLAlchemy as is

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    alert_id: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # ``alert``, or ``budget.moves`` (``services.storage.budget_moves``; migration 0010).
    kind: Mapped[str] = mapped_column(String(32), default=ALERT_KIND, server_default=ALERT_KIND)


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None


def _row(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "campaign_id": alert.campaign_id,
        "cause": alert.cause,
        "state": alert.state,
        "severity": alert.severity,
        "status": alert.status,
        "revision": alert.revision,
        "opened_at": _utc(alert.opened_at),
        "updated_at": _utc(alert.updated_at),
        "acknowledged_at": _utc(alert.acknowledged_at),
        "resolved_at": _utc(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        "event_time": _utc(alert.event_time),
        "clear_since": _utc(alert.clear_since),
        "body": alert.model_dump(mode="json"),
    }


@contextmanager
def outbox_writer(engine: Engine) -> Iterator[Connection]:
    """A transaction that may append to the outbox: writers serialise, so ids become visible in
    increasing order."""
    with engine.connect() as connection:
        connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
            yield connection


class AlertRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _writing(self) -> AbstractContextManager[Connection]:
        return outbox_writer(self._engine)

    def open_alerts(self, campaign_ids: Sequence[str]) -> dict[AlertKey, Alert]:
        """The open alert, or the user's resolution holding the cause (see
        ``alerting.holds_cause``), of each (campaign, cause) among the given campaigns."""
        ids = sorted(set(campaign_ids))
        found: dict[AlertKey, Alert] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(ids), _IN_CHUNK):
                query = (
                    select(AlertRow.body)
                    .where(
                        AlertRow.campaign_id.in_(ids[start : start + _IN_CHUNK]),
                        or_(
                            AlertRow.state != "resolved",
                            (AlertRow.resolved_by != MONITOR) & AlertRow.clear_since.is_(None),
                        ),
                    )
                    .order_by(AlertRow.opened_at, AlertRow.alert_id)
                )
                for body in connection.scalars(query):
                    alert = Alert.model_validate(body)
                    found[(alert.campaign_id, alert.cause)] = alert
        return found

    def apply(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Write alerts in one transaction; return those written as a new revision.

        An alert is inserted when its id is new, and overwrites the stored one when its revision is
        the stored revision + 1; either appends an outbox row. One that differs from the stored
        revision only in ``clear_since`` replaces it quietly (no outbox row). Anything else was
        computed from a revision that has since moved on (a user acknowledged or resolved it
        meanwhile) and is skipped, as is a new alert whose cause already has an open one.
        """
        written: list[Alert] = []
        if not alerts:
            return written
        with self._writing() as connection:
            ids = sorted({a.alert_id for a in alerts})
            stored: dict[str, Alert] = {}
            for start in range(0, len(ids), _IN_CHUNK):
                query = select(AlertRow.body).where(
                    AlertRow.alert_id.in_(ids[start : start + _IN_CHUNK])
                )
                for body in connection.scalars(query):
                    known = Alert.model_validate(body)
                    stored[known.alert_id] = known
            for alert in alerts:
                previous = stored.get(alert.alert_id)
                if previous is None:
                    if not self._insert(connection, alert):
                        continue
                    announced = True
                elif previous.revision + 1 == alert.revision:
                    self._update(connection, alert, previous.revision)
                    announced = True
                elif previous.model_copy(update={"clear_since": alert.clear_since}) == alert:
                    self._update(connection, alert, previous.revision)
                    announced = False
                else:
                    continue
                stored[alert.alert_id] = alert
                if announced:
                    self._append_event(connection, alert)
                    written.append(alert)
        return written

    def _insert(self, connection: Connection, alert: Alert) -> bool:
        try:
            with connection.begin_nested():
                connection.execute(insert(AlertRow).values(_row(alert)))
        except IntegrityError:
            return False
        self._write_creators(connection, alert, replace=False)
        return True

    def _update(self, connection: Connection, alert: Alert, revision: int) -> None:
        connection.execute(
            update(AlertRow)
            .where(AlertRow.alert_id == alert.alert_id, AlertRow.revision == revision)
            .values(_row(alert))
        )
        self._write_creators(connection, alert, replace=True)

    def _write_creators(self, connection: Connection, alert: Alert, *, replace: bool) -> None:
        if replace:
            connection.execute(
                delete(AlertCreatorRow).where(AlertCreatorRow.alert_id == alert.alert_id)
            )
        creators = sorted(
            {c.creator_id for c in alert.contributors}
            | ({alert.creator_id} if alert.creator_id is not None else set())
        )
        if creators:
            connection.execute(
                insert(AlertCreatorRow),
                [{"alert_id": alert.alert_id, "creator_id": c} for c in creators],
            )

    def _append_event(self, connection: Connection, alert: Alert) -> None:
        connection.execute(
            insert(AlertEventRow).values(
                alert_id=alert.alert_id,
                revision=alert.revision,
                state=alert.state,
                body=alert.model_dump(mode="json"),
                created_at=datetime.now(UTC),
            )
        )

    def get(self, alert_id: str) -> Alert | None:
        with self._engine.connect() as connection:
            body = connection.scalar(select(AlertRow.body).where(AlertRow.alert_id == alert_id))
        return Alert.model_validate(body) if body is not None else None

    def acknowledge(self, alert_id: str, now: datetime, by: str) -> Alert | None:
        """The alert acknowledged by ``by`` (unchanged if it already was, or is resolved);
        ``None`` if there is no such alert."""
        return self._transition(alert_id, lambda alert: alerting.acknowledge(alert, now, by))

    def resolve(self, alert_id: str, now: datetime, by: str) -> Alert | None:
        """The alert resolved by ``by`` (unchanged if it already was); ``None`` if there is no
        such alert."""
        return self._transition(alert_id, lambda alert: alerting.resolve(alert, now, by))

    def _transition(self, alert_id: str, change: Callable[[Alert], Alert]) -> Alert | None:
        with self._writing() as connection:
            body = connection.scalar(select(AlertRow.body).where(AlertRow.alert_id == alert_id))
            if body is None:
                return None
            current = Alert.model_validate(body)
            changed = change(current)
            if changed != current:
                self._update(connection, changed, current.revision)
                self._append_event(connection, changed)
        return changed

    def list(
        self,
        campaign_id: str | None = None,
        creator_id: str | None = None,
        state: AlertState | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> AlertPage:
        """A page of alerts, newest opened first, and how many match in all.

        ``since`` and ``until`` select the alerts open at some time in [since, until): opened
        before ``until`` and not resolved before ``since``.
        """
        page: Select[dict[str, Any]] = select(AlertRow.body)
        count: Select[int] = select(func.count()).select_from(AlertRow)
        conditions = []
        if campaign_id is not None:
            conditions.append(AlertRow.campaign_id == campaign_id)
        if creator_id is not None:
            named = select(AlertCreatorRow.alert_id).where(AlertCreatorRow.creator_id == creator_id)
            conditions.append(AlertRow.alert_id.in_(named))
        if state is not None:
            conditions.append(AlertRow.state == state)
        if since is not None:
            conditions.append(
                or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at >= _utc(since))
            )
        if until is not None:
            conditions.append(AlertRow.opened_at < _utc(until))
        page = page.where(*conditions).order_by(AlertRow.opened_at.desc(), AlertRow.alert_id.desc())
        count = count.where(*conditions)
        with self._engine.connect() as connection:
            bodies = connection.scalars(page.limit(limit).offset(offset)).all()
            total = connection.scalar(count) or 0
        return [Alert.model_validate(b) for b in bodies], total

    def events_after(self, event_id: int, limit: int = 100) -> AlertEvents:
        """Alert rows of the outbox with an id above ``event_id``, oldest first: (id, the alert
        revision). Every kind of row: ``services.storage.budget_moves.outbox_after``."""
        query = (
            select(AlertEventRow.id, AlertEventRow.body)
            .where(AlertEventRow.id > event_id, AlertEventRow.kind == ALERT_KIND)
            .order_by(AlertEventRow.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(row_id, Alert.model_validate(body)) for row_id, body in rows]

    def outbox_after(self, event_id: int, limit: int = 100) -> OutboxEvents:
        """Every outbox row (alert changes and ``budget.moves``) with an id above ``event_id``,
        oldest first: what the notifier delivers."""
        query = (
            select(AlertEventRow.id, AlertEventRow.kind, AlertEventRow.body)
            .where(AlertEventRow.id > event_id)
            .order_by(AlertEventRow.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            (
                row_id,
                Alert.model_validate(body)
                if kind == ALERT_KIND
                else Recommendation.model_validate(body),
            )
            for row_id, kind, body in rows
        ]

    def latest_event_id(self) -> int:
        """The id of the newest outbox row; 0 when there is none."""
        with self._engine.connect() as connection:
            return connection.scalar(select(func.max(AlertEventRow.id))) or 0
