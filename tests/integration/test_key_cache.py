"""The authenticator's cache of looked-up keys: answered without the database only while fresh,
never for a key revoked, expired or unknown, and never refilled by a lookup that a revocation
overtook; and over HTTP, a revoked key is refused at once although its requests were cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from services.domain.keys import ApiKey, Principal, Scope, generate_key
from services.service_layer.access import (
    LAST_USED_RESOLUTION,
    Authenticator,
    Unauthenticated,
    issue_key,
    revoke_key,
)
from services.storage.keys import AuditLog, KeyRepository

READ = frozenset({Scope.CAMPAIGNS_READ})
ADMIN = Principal(key_id="key_tests", name="tests", scopes=frozenset({Scope.ADMIN}))


def test_a_key_is_answered_from_the_cache_only_after_a_lookup(engine: Engine) -> None:
    keys = KeyRepository(engine)
    issued = issue_key(keys, "reader", READ)
    authenticator = Authenticator(keys)

    before = authenticator.authenticate_cached(issued.key)
    looked_up = authenticator.authenticate(issued.key)
    cached = authenticator.authenticate_cached(issued.key)

    assert before is None
    assert cached == looked_up
    assert cached.name == "reader" and cached.scopes == READ


def test_nothing_is_answered_from_the_cache_once_it_is_stale(engine: Engine) -> None:
    keys = KeyRepository(engine)
    issued = issue_key(keys, "reader", READ)
    authenticator = Authenticator(keys, cache_seconds=0)

    authenticator.authenticate(issued.key)

    assert authenticator.authenticate_cached(issued.key) is None


def test_a_due_last_used_write_goes_to_the_database(engine: Engine) -> None:
    keys = KeyRepository(engine)
    issued = issue_key(keys, "reader", READ)
    authenticator = Authenticator(keys)
    now = datetime.now(UTC)
    authenticator.authenticate(issued.key, now)

    later = now + LAST_USED_RESOLUTION

    assert authenticator.authenticate_cached(issued.key, later) is None
    authenticator.authenticate(issued.key, later)
    touched = keys.get(issued.record.key_id)
    assert touched is not None and touched.last_used_at == later


def test_cached_keys_that_expired_or_are_unknown_are_refused(engine: Engine) -> None:
    keys = KeyRepository(engine)
    expires = datetime.now(UTC) + timedelta(hours=1)
    issued = issue_key(keys, "temporary", READ, expires_at=expires)
    unknown = generate_key()
    authenticator = Authenticator(keys)
    authenticator.authenticate(issued.key)
    with pytest.raises(Unauthenticated, match="not known"):
        authenticator.authenticate(unknown)

    with pytest.raises(Unauthenticated, match="expired"):
        authenticator.authenticate_cached(issued.key, expires)
    with pytest.raises(Unauthenticated, match="not known"):
        authenticator.authenticate_cached(unknown)
    with pytest.raises(Unauthenticated, match="checksum"):
        authenticator.authenticate_cached(issued.key[:-1] + ("0" if issued.key[-1] != "0" else "1"))


class _RevokedDuringLookup(KeyRepository):
    """The real repository, with the key revoked (and the cache dropped, as the API's revoke route
    does) between reading it and the authenticator caching what was read."""

    authenticator: Authenticator

    def by_hash(self, hashed: str) -> ApiKey | None:
        record = super().by_hash(hashed)
        if record is not None and record.revoked_at is None:
            revoke_key(self, AuditLog(self._engine), record.key_id, ADMIN)
            self.authenticator.forget()
        return record


def test_a_lookup_overtaken_by_a_revocation_is_not_cached(engine: Engine) -> None:
    keys = _RevokedDuringLookup(engine)
    keys.authenticator = authenticator = Authenticator(keys)
    issued = issue_key(keys, "leaked", READ)

    authenticator.authenticate(issued.key)

    assert authenticator.authenticate_cached(issued.key) is None
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticator.authenticate(issued.key)


async def test_a_revoked_key_is_refused_at_once_although_it_was_cached(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    issued = issue_key(app.state.keys, "busy-reader", READ)
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert (await anonymous.get("/v1/campaigns", headers=headers)).status_code == 200
    assert (await anonymous.get("/v1/campaigns", headers=headers)).status_code == 200
    assert app.state.authenticator.authenticate_cached(issued.key) is not None

    revoked = await client.delete(f"/v1/keys/{issued.record.key_id}")
    refused = await anonymous.get("/v1/campaigns", headers=headers)

    assert revoked.status_code == 204
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
