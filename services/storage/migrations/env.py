"""Alembic environment: runs on the connection ``services.storage.db.migrate`` hands over, or on
``sqlalchemy.url`` when a Config built elsewhere sets it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from services.storage import alerts as _alerts  # noqa: F401 - registers the alert tables
from services.storage import keys as _keys  # noqa: F401 - registers keys, sessions, audit log
from services.storage import report_events as _report_events  # noqa: F401 - weekly review outbox
from services.storage import rollups as _rollups  # noqa: F401 - registers the daily rollups
from services.storage import webhooks as _webhooks  # noqa: F401 - registers webhooks, configs
from services.storage.db import make_engine
from services.storage.models import Base

# Any fixed 64-bit key: serialises services that migrate one PostgreSQL database at the same time.
_ADVISORY_LOCK_KEY = 0x70756C7365


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
            )
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection given and sqlalchemy.url is not set")
    engine = make_engine(url)
    try:
        with engine.connect() as fresh:
            _run(fresh)
    finally:
        engine.dispose()


run_migrations_online()
