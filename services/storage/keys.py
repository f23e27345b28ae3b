"""API keys, the browser sessions signed in with them, and the audit log of who changed what.

A key row holds the SHA-256 of the key, never the key; a session row holds the SHA-256 of the
session token its cookie carries. A session lives only as long as its key stays usable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    ForeignKey,
    Integer,
    RowMapping,
    String,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.keys import ApiKey, Scope
from services.storage.models import Base, optional_stored_time, stored_time


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[str] = mapped_column(String(512))
    last_four: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(128))


class SessionRow(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("api_keys.key_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - read by SQLAlchemy as is

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        scopes=frozenset(Scope(s) for s in row["scopes"].split()),
        last_four=row["last_four"],
        created_at=stored_time(row["created_at"]),
        expires_at=optional_stored_time(row["expires_at"]),
        last_used_at=optional_stored_time(row["last_used_at"]),
        revoked_at=optional_stored_time(row["revoked_at"]),
        created_by=row["created_by"],
    )


class KeyRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, key: ApiKey, hashed: str) -> None:
        values: dict[str, Any] = {
            "key_id": key.key_id,
            "key_hash": hashed,
            "name": key.name,
            "scopes": " ".join(sorted(key.scopes)),
            "last_four": key.last_four,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "last_used_at": None,
            "revoked_at": None,
            "created_by": key.created_by,
        }
        with self._engine.begin() as connection:
            connection.execute(insert(ApiKeyRow).values(values))

    def by_hash(self, hashed: str) -> ApiKey | None:
        table = ApiKeyRow.__table__
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(table).where(table.c.key_hash == hashed))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _key(row)

    def get(self, key_id: str) -> ApiKey | None:
        table = ApiKeyRow.__table__
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(table).where(table.c.key_id == key_id))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _key(row)

    def list(self, include_revoked: bool = False) -> list[ApiKey]:
        table = ApiKeyRow.__table__
        query = select(table).order_by(table.c.created_at, table.c.key_id)
        if not include_revoked:
            query = query.where(table.c.revoked_at.is_(None))
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_key(row) for row in rows]

    def count_usable(self, now: datetime) -> int:
        table = ApiKeyRow.__table__
        query = select(func.count()).where(
            table.c.revoked_at.is_(None),
            (table.c.expires_at.is_(None)) | (table.c.expires_at > now),
        )
        with self._engine.connect() as connection:
            return connection.scalar(query) or 0

    def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        """The key revoked (unchanged if it already was); ``None`` when there is no such key.
        Its sessions end with it."""
        with self._engine.begin() as connection:
            connection.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            connection.execute(delete(SessionRow).where(SessionRow.key_id == key_id))
        return self.get(key_id)

    def touch(self, key_id: str, now: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=now)
            )

    def add_session(self, token_hash: str, key_id: str, now: datetime, expires: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            connection.execute(
                insert(SessionRow).values(
                    token_hash=token_hash, key_id=key_id, created_at=now, expires_at=expires
                )
            )

    def session_key(self, token_hash: str, now: datetime) -> ApiKey | None:
        """The key behind an unexpired session."""
        sessions = SessionRow.__table__
        keys = ApiKeyRow.__table__
        query = (
            select(keys)
            .join(sessions, sessions.c.key_id == keys.c.key_id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        return None if row is None else _key(row)

    def end_session(self, token_hash: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, actor: str, key_id: str | None, action: str, target: str, at: datetime | None = None
    ) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(AuditRow).values(
                    at=at or datetime.now(UTC),
                    actor=actor,
                    key_id=key_id,
                    action=action,
                    target=target,
                )
            )

    def entries(self, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Newest first, and how many there are in all."""
        table = AuditRow.__table__
        query = select(table).order_by(table.c.id.desc()).limit(limit).offset(offset)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            total = connection.scalar(select(func.count()).select_from(table)) or 0
        return [{**row, "at": stored_time(row["at"])} for row in rows], total


def new_key_id() -> str:
    return f"key_{uuid.uuid4().hex}"
