"""Durable commits and ``pulse backup``: a copy taken while a writer keeps committing holds every
row committed before the backup started, and is a snapshot (exactly the first n commits)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import URL

from services.cli import main
from services.domain import alerting
from services.domain.keys import Scope
from services.domain.views import CampaignView
from services.service_layer.access import issue_key
from services.storage.alerts import AlertEventRow, AlertRepository, AlertRow
from services.storage.backup import BackupError, backup
from services.storage.db import make_engine, migrate, normalise_url
from services.storage.keys import ApiKeyRow, KeyRepository
from services.storage.models import CampaignStatus
from services.storage.repository import StatusRepository
from tests.e2e.harness import eventually
from tests.integration.conftest import BuildViews

pytestmark = pytest.mark.integration

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
BEFORE_BACKUP = 60
"""Commits the writer makes before the backup starts."""


class Writer(threading.Thread):
    """Commits, one transaction at a time and in turn: a campaign status, a new alert (with its
    outbox row), its acknowledgement (a second outbox row) and an API key, logging each commit."""

    def __init__(self, engine: Engine, prefix: str, decaying: CampaignView) -> None:
        super().__init__(daemon=True)
        self.prefix = prefix
        self.decaying = decaying
        self.statuses = StatusRepository(engine)
        self.alerts = AlertRepository(engine)
        self.keys = KeyRepository(engine)
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                self._round(f"{self.prefix}{n:05}")
                n += 1
        except BaseException as exc:
            self.failure = exc

    def _round(self, campaign_id: str) -> None:
        view = self.decaying.model_copy(update={"campaign_id": campaign_id})
        self.statuses.save([view], [])
        self.committed.append(f"status {campaign_id}")
        [opened] = alerting.evaluate(view, {}, NOW)
        [alert] = self.alerts.apply([opened.alert])
        self.committed.append(f"outbox {alert.alert_id} 1")
        self.alerts.acknowledge(alert.alert_id, NOW, "backup-test")
        self.committed.append(f"outbox {alert.alert_id} 2")
        key = issue_key(self.keys, campaign_id, frozenset({Scope.CAMPAIGNS_READ}))
        self.committed.append(f"key {key.record.key_id}")

    def commits(self) -> int:
        if self.failure is not None:
            raise self.failure
        return len(self.committed)

    def finish(self) -> list[str]:
        self.stop.set()
        self.join()
        self.commits()
        return self.committed


def found(engine: Engine, prefix: str) -> set[str]:
    """The writer's commits present in a database, checking that each alert row agrees with the
    outbox (its revision is its newest outbox row's)."""
    pattern = f"{prefix}%"
    with engine.connect() as connection:
        statuses = connection.scalars(
            select(CampaignStatus.campaign_id).where(CampaignStatus.campaign_id.like(pattern))
        )
        events = connection.execute(
            select(AlertEventRow.alert_id, func.max(AlertEventRow.revision), func.count())
            .join(AlertRow, AlertRow.alert_id == AlertEventRow.alert_id)
            .where(AlertRow.campaign_id.like(pattern))
            .group_by(AlertEventRow.alert_id)
        ).all()
        revisions = dict(
            connection.execute(
                select(AlertRow.alert_id, AlertRow.revision).where(
                    AlertRow.campaign_id.like(pattern)
                )
            ).all()
        )
        keys = connection.scalars(select(ApiKeyRow.key_id).where(ApiKeyRow.name.like(pattern)))
        present = {f"status {c}" for c in statuses} | {f"key {k}" for k in keys}
    assert {alert_id: newest for alert_id, newest, _ in events} == revisions
    for alert_id, newest, rows in events:
        assert rows == newest
        present |= {f"outbox {alert_id} {revision}" for revision in range(1, newest + 1)}
    return present


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def restored(database_url: str, copy: Path) -> Iterator[Engine]:
    """The backup opened as a database: the SQLite file itself, or the pg_dump archive restored
    into a new database on the same server."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = make_engine(f"sqlite:///{copy}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    name = f"pulse_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(url.set(database="postgres")), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            target = url.set(database=name)
            subprocess.run(
                ["pg_restore", "--no-owner", f"--dbname={libpq(target)}", str(copy)],
                check=True,
                capture_output=True,
            )
            engine = make_engine(target)
            try:
                yield engine
            finally:
                engine.dispose()
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_backup_taken_while_writing_holds_every_earlier_commit(
    database_url: str, engine: Engine, views: BuildViews, tmp_path: Path
) -> None:
    if engine.dialect.name == "postgresql" and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
        pytest.skip("pg_dump and pg_restore (postgresql-client) are not installed")
    prefix = f"backup-{uuid.uuid4().hex[:8]}-"
    decaying, _ = views("template", {"ana": "decaying"})
    writer = Writer(engine, prefix, decaying)
    writer.start()
    try:
        eventually(lambda: writer.commits() >= BEFORE_BACKUP)
        before = list(writer.committed)
        (tmp_path / "backups").mkdir()
        copy = tmp_path / "backups" / "copy.backup"
        made = backup(database_url, copy)
        # The writer was never blocked: it goes on committing after the backup.
        after = len(writer.committed)
        eventually(lambda: writer.commits() > after + 4)
    finally:
        committed = writer.finish()

    assert made.path == copy and made.size == copy.stat().st_size
    assert copy.stat().st_mode & 0o077 == 0, "only its owner may read a copy of the secrets"
    assert list(copy.parent.iterdir()) == [copy], "no partial file left behind"
    with restored(database_url, copy) as copied:
        present = found(copied, prefix)
    assert present >= set(before), "a commit made before the backup started is missing"
    assert present == set(committed[: len(present)]), "the copy is not one point in time"
    assert found(engine, prefix) == set(committed)


def test_pulse_backup_refuses_to_overwrite_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "pulse.db"
    migrate(f"sqlite:///{database}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    existing = tmp_path / "kept.db"
    existing.write_text("an earlier backup")

    assert main(["backup", str(existing)]) == 1
    assert "exists" in capsys.readouterr().err
    assert existing.read_text() == "an earlier backup"
    assert main(["backup", "--overwrite", str(existing)]) == 0
    assert "SQLite online backup" in capsys.readouterr().out


def test_a_missing_sqlite_database_is_not_created_by_a_backup(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database"):
        backup(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path / "copy.db")

    assert list(tmp_path.iterdir()) == []


def test_without_pg_dump_the_error_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(BackupError) as raised:
        backup("postgresql://pulse:secret@db.example:5432/pulse", tmp_path / "pulse.dump")

    message = str(raised.value)
    assert "pg_dump --format=custom" in message
    assert "--dbname=postgresql://pulse@db.example:5432/pulse" in message
    assert "secret" not in message


def test_commits_are_durable(database_url: str) -> None:
    """WAL with synchronous=FULL on SQLite; synchronous_commit on for PostgreSQL connections even
    where the server or the connection string turns it off."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"options": "-c synchronous_commit=off"})
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
                assert connection.scalar(text("PRAGMA synchronous")) == 2  # FULL
            else:
                assert connection.scalar(text("SHOW synchronous_commit")) == "on"
    finally:
        engine.dispose()
