"""Engines for the status database and its schema migrations.

SQLite is the embedded default: the monitor writes while the API reads, so connections use WAL (a
reader never blocks the writer) and a busy timeout (a second writer waits instead of failing).
SQLAlchemy emits BEGIN itself rather than the sqlite3 driver, whose legacy mode runs DDL outside any
transaction; that makes migrations atomic, and lets ``migrate`` take the write lock up front with
BEGIN IMMEDIATE so two services migrating at once run one after the other (PostgreSQL uses an
advisory lock to the same end, see ``migrations/env.py``).

Commits are durable on both databases: a committed outbox row makes the notifier call webhooks, so
a commit that a receiver has been told about must survive a power loss. In WAL mode SQLite's
``synchronous=NORMAL`` syncs only at checkpoints and may lose the last commits; ``FULL`` syncs the
WAL at every commit. PostgreSQL's ``synchronous_commit=off`` (settable per server, database, role
or session) would likewise acknowledge a commit before its WAL is flushed, so every connection sets
it back ``on`` whatever the server's default.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections a file database keeps open: as many as the worker threads that can read at once
# (anyio's default limit, which FastAPI's sync routes run under). A smaller pool closes the extra
# connections it opens in a burst, so every request beyond it paid for a new connection: opening
# the file, the pragmas below and reading the schema again (see docs/performance.md, "API p99").
SQLITE_POOL_SIZE = 40

_SQLITE_BEGIN = "pulse_sqlite_begin"
_MIGRATING = threading.Lock()


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``; bare ``postgresql://`` URLs get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, pool_pre_ping=True)
        event.listen(engine, "connect", _configure_postgresql)
        return engine
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, pool_size=SQLITE_POOL_SIZE)
    else:
        engine = create_engine(parsed)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _configure_postgresql(dbapi_connection: psycopg.Connection[Any], _record: Any) -> None:
    # Committed, because a SET in a transaction that the pool later rolls back is undone with it.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    dbapi_connection.commit()


def _begin_sqlite(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(target: str | URL | Engine) -> None:
    """Bring the schema to the latest revision; a no-op when it is already there.

    Alembic keeps its migration context in module globals, so migrations in one process run one at
    a time; across processes the database's own lock serialises them (see the module docstring).
    """
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with _MIGRATING, engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection.execution_options(
                **{_SQLITE_BEGIN: "IMMEDIATE"}
            )
            command.upgrade(config, "head")
    finally:
        if engine is not target:
            engine.dispose()


def begin_write(engine: Engine) -> AbstractContextManager[Connection]:
    """A transaction that reads and then writes: on SQLite it takes the write lock up front
    (BEGIN IMMEDIATE), since a read transaction upgraded to a write fails at once when another
    writer got there first; PostgreSQL callers lock the rows they read (FOR UPDATE)."""
    return engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"}).begin()


def insert_statement(engine: Engine, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with the dialect's ON CONFLICT clauses (both dialects spell them alike)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(model)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no upsert for the {engine.dialect.name} dialect")
