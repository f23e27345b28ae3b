"""`pulse keys create|list|revoke` on a real database, as an operator would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.service_layer.access import Authenticator, Unauthenticated
from services.storage.db import make_engine
from services.storage.keys import AuditLog, KeyRepository


def _pulse(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "keys", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_list_and_revoke_a_key(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/pulse.db"

    created = _pulse(
        database_url,
        "create",
        "--name",
        "loader",
        "--scope",
        "events:write",
        "--scope",
        "campaigns:read",
        "--expires-in-days",
        "30",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("pulse_") and "shown only now" in created.stderr

    listed = _pulse(database_url, "list")
    assert listed.returncode == 0
    assert "loader" in listed.stdout and key[-4:] in listed.stdout and key not in listed.stdout
    assert "campaigns:read events:write" in listed.stdout

    engine = make_engine(database_url)
    try:
        keys = KeyRepository(engine)
        principal = Authenticator(keys).authenticate(key)
        assert principal.name == "loader"
        (record,) = keys.list()
        revoked = _pulse(database_url, "revoke", record.key_id)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(Unauthenticated, match="revoked"):
            Authenticator(keys).authenticate(key)
        entries, _ = AuditLog(engine).entries()
        assert [e["action"] for e in entries] == ["key.revoke", "key.create"]
    finally:
        engine.dispose()

    assert "loader" not in _pulse(database_url, "list").stdout
    assert "loader" in _pulse(database_url, "list", "--all").stdout


def test_bad_requests_fail_with_a_reason(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/pulse.db"

    unknown_scope = _pulse(database_url, "create", "--name", "x", "--scope", "everything")
    reserved = _pulse(database_url, "create", "--name", "monitor", "--scope", "admin")
    missing = _pulse(database_url, "revoke", "key_nope")

    assert unknown_scope.returncode == 2 and "invalid choice" in unknown_scope.stderr
    assert reserved.returncode == 2 and "reserved" in reserved.stderr
    assert missing.returncode == 1 and "no key 'key_nope'" in missing.stderr
