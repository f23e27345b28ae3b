"""Campaign status bodies kept in memory for as long as the database has not changed.

The API serves a campaign's status as the JSON text the monitor stored (``StatusRepository
.campaign_json``). Reading it takes a worker thread, and under load the hops to and from that
thread, not the read, made the tail of the latency (see docs/performance.md, "API p99"). So the
API keeps the bodies it read, and answers from them on its event loop while the database is
unchanged.

"Unchanged" is SQLite's ``PRAGMA data_version`` on a connection of the cache's own, which never
writes: its value changes whenever any other connection (the monitor's, a CLI's) has committed,
so every commit empties the cache, and what is served is what a read would return at that
moment. The pragma reads the WAL index in shared memory, a few microseconds, and with no busy
timeout it never waits: when it cannot answer, nothing is served from the cache. On PostgreSQL,
or an in-memory SQLite database, there is no such counter and the cache is never used.

All of it runs on the event loop's thread (the connection refuses to be used from another).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

MAX_BODIES = 10_000

# (connection number, data_version): a reopened connection counts its versions afresh.
Version = tuple[int, int]


@dataclass(frozen=True)
class Lookup:
    """What the cache knows of a campaign: its body when kept, and the database version it was
    asked at, under which a body read afterwards may be kept (``None``: keep nothing)."""

    body: str | None
    version: Version | None


class StatusBodyCache:
    def __init__(self, engine: Engine, max_bodies: int = MAX_BODIES) -> None:
        self._path = _sqlite_file(engine)
        self._max_bodies = max_bodies
        self._connection: sqlite3.Connection | None = None
        self._connections_opened = 0
        self._version: Version | None = None
        self._bodies: dict[str, str] = {}

    def lookup(self, campaign_id: str) -> Lookup:
        version = self._current_version()
        if version is None:
            return Lookup(body=None, version=None)
        return Lookup(body=self._bodies.get(campaign_id), version=version)

    def keep(self, campaign_id: str, body: str, version: Version | None) -> None:
        """Keep ``body``, read after a lookup answered ``version``, unless the database has been
        seen to change since: then the body may be older than the current version."""
        if version is None or version != self._version:
            return
        if len(self._bodies) >= self._max_bodies:
            self._bodies.clear()
        self._bodies[campaign_id] = body

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._version = None
        self._bodies.clear()

    def _current_version(self) -> Version | None:
        if self._path is None:
            return None
        try:
            if self._connection is None:
                self._connection = _watcher(self._path)
                self._connections_opened += 1
            data_version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            self.close()
            return None
        version = (self._connections_opened, data_version)
        if version != self._version:
            self._bodies.clear()
            self._version = version
        return version


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return str(Path(database).expanduser())


def _watcher(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 0")
    connection.execute("PRAGMA query_only = 1")
    return connection
