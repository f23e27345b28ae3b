"""``pulse backup FILE``: a consistent copy of the status database, taken while services write.

Copying a live SQLite file can catch a page half written or miss commits still in the WAL, so
SQLite is copied with its online backup API in one step: that reads from one snapshot, while WAL
lets the writers carry on meanwhile (a backup in several steps would start over after every
write by another connection, and might never finish under the monitor's steady writes). The copy
is written beside FILE, synced, checked and renamed into place, so FILE is never a partial copy;
it is readable by its owner only, like the database's secrets.
Restore it by stopping the services and putting it where ``DATABASE_URL`` points.

PostgreSQL is copied by ``pg_dump --format=custom``, which reads everything in one repeatable-read
transaction: a snapshot, without blocking writers. Restore it with
``pg_restore --clean --if-exists --dbname=<database> FILE``. ``pg_dump`` comes with the PostgreSQL
client packages and must not be older than the server.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from services.storage.db import SQLITE_BUSY_TIMEOUT_MS, normalise_url


class BackupError(Exception):
    """No backup was made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    method: str


def backup(database_url: str | URL, target: Path, overwrite: bool = False) -> Backup:
    """Copy the database at ``database_url`` to ``target``."""
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; choose another file or allow overwriting it")
    parsed = normalise_url(database_url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_file(parsed), target)
        method = "SQLite online backup"
    elif parsed.get_backend_name() == "postgresql":
        _pg_dump(parsed, target)
        method = "pg_dump --format=custom"
    else:
        raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")
    return Backup(path=target, size=target.stat().st_size, method=method)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"{url} is not a database file")
    source = Path(url.database).expanduser()
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    return source


def _sqlite_backup(source: Path, target: Path) -> None:
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup cannot replace the database itself")
    partial = _partial(target)
    # mode=rw: a wrong path must fail, not create an empty database to back up.
    reading = sqlite3.connect(f"file:{source}?mode=rw", uri=True)
    try:
        reading.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        copy = sqlite3.connect(partial)
        try:
            reading.backup(copy)
            # The copy stands alone: no -wal file beside it to lose when it is moved.
            copy.execute("PRAGMA journal_mode = DELETE")
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
    finally:
        reading.close()
    if verdict != "ok":
        partial.unlink()
        raise BackupError(f"the copy failed its check: {verdict}")
    _publish(partial, target)


def _partial(target: Path) -> Path:
    """A new empty file beside ``target`` for the copy, readable by its owner only: the database
    holds webhook signing secrets."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return partial


def _publish(partial: Path, target: Path) -> None:
    """Sync the finished copy and rename it to ``target``, so ``target`` is whole or absent."""
    _sync(partial)
    partial.replace(target)
    _sync(target.parent)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def pg_dump_command(url: URL, target: Path) -> list[str]:
    """The command, without the password (``_pg_dump`` passes it as ``PGPASSWORD``, off the
    command line, which other users of the host can read)."""
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    dsn = plain.render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", f"--file={target}", f"--dbname={dsn}"]


def _pg_dump(url: URL, target: Path) -> None:
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not on PATH; install the PostgreSQL client (Debian: postgresql-client) "
            f"or run where it is: {shlex.join(pg_dump_command(url, target))}"
        )
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    partial = _partial(target)
    done = subprocess.run(
        pg_dump_command(url, partial), env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    _publish(partial, target)
