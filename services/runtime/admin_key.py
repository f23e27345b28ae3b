"""The admin key ``pulse run`` hands its user: ``.run/admin.key``, mode 0600.

A key already in the file that still works is kept; otherwise a new admin key is made and
written there. The end-to-end tests and the benchmark take their keys the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from services.domain.keys import Scope
from services.service_layer.access import Authenticator, Unauthenticated, issue_key
from services.storage.db import make_engine, migrate
from services.storage.keys import KeyRepository

ADMIN_KEY_FILE = "admin.key"


def provision_admin_key(database_url: str, path: Path) -> str:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        keys = KeyRepository(engine)
        if path.exists():
            kept = path.read_text().strip()
            try:
                if Scope.ADMIN in Authenticator(keys).authenticate(kept).scopes:
                    return kept
            except Unauthenticated:
                pass
        issued = issue_key(keys, "admin", frozenset({Scope.ADMIN}), created_by="pulse run")
    finally:
        engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(issued.key + "\n")
    path.chmod(0o600)
    return issued.key


def issue_service_key(database_url: str, name: str, scopes: frozenset[Scope]) -> str:
    """A key for one of the stack's own clients (the simulator), made at its start."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        return issue_key(KeyRepository(engine), name, scopes, created_by="pulse run").key
    finally:
        engine.dispose()
