"""Issuing, checking and revoking API keys, and the browser sessions signed in with them.

``Authenticator`` answers for every request of a service, so it keeps what it learnt about a key
for a few seconds (``cache_seconds``): a revocation takes effect within that time, and a busy
client costs one database lookup per interval instead of one per request. ``last_used_at`` is
written at most once a minute per key for the same reason.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.domain.keys import (
    RESERVED_NAMES,
    SHOWN_CHARACTERS,
    ApiKey,
    MalformedKey,
    Principal,
    Scope,
    check_format,
    generate_key,
    key_hash,
)
from services.storage.keys import AuditLog, KeyRepository, new_key_id

LAST_USED_RESOLUTION = timedelta(minutes=1)
SESSION_TOKEN_BYTES = 32


class Unauthenticated(Exception):
    """No usable key: the message says why, without saying whether a key exists."""


class InvalidKeyRequest(ValueError):
    """A key cannot be made as asked."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the only time the key itself is seen."""

    key: str
    record: ApiKey


def issue_key(
    keys: KeyRepository,
    name: str,
    scopes: frozenset[Scope],
    expires_at: datetime | None = None,
    created_by: str | None = None,
    now: datetime | None = None,
) -> IssuedKey:
    now = now or datetime.now(UTC)
    if name in RESERVED_NAMES:
        raise InvalidKeyRequest(f"'{name}' is reserved; choose another name")
    if not scopes:
        raise InvalidKeyRequest("a key needs at least one scope")
    if expires_at is not None and expires_at <= now:
        raise InvalidKeyRequest("expires_at is in the past")
    key = generate_key()
    record = ApiKey(
        key_id=new_key_id(),
        name=name,
        scopes=scopes,
        last_four=key[-SHOWN_CHARACTERS:],
        created_at=now,
        expires_at=expires_at,
        last_used_at=None,
        revoked_at=None,
        created_by=created_by,
    )
    keys.add(record, key_hash(key))
    return IssuedKey(key=key, record=record)


class Authenticator:
    def __init__(self, keys: KeyRepository, cache_seconds: float = 5.0) -> None:
        self._keys = keys
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._touched: dict[str, datetime] = {}
        self._lock = threading.Lock()
        # Bumped by ``forget``: a lookup that started before it must not cache what it read.
        self._generation = 0

    def authenticate(self, key: str, now: datetime | None = None) -> Principal:
        """The principal behind ``key``; raises ``Unauthenticated`` saying why not."""
        hashed = _checked_hash(key)
        record = self._lookup(hashed)
        if record is None:
            raise Unauthenticated("the API key is not known")
        return self._admit(record, now or datetime.now(UTC))

    def authenticate_cached(self, key: str, now: datetime | None = None) -> Principal | None:
        """What ``authenticate`` would answer, when it can answer from the cache alone (no
        database read, nor a ``last_used_at`` write due); ``None`` when it cannot.

        It does no I/O, so a service can call it on its event loop and keep the worker thread
        for the lookups that need the database.
        """
        cached = self._fresh(_checked_hash(key))
        if cached is None:
            return None
        (record,) = cached
        if record is None:
            raise Unauthenticated("the API key is not known")
        now = now or datetime.now(UTC)
        refused = record.usable_at(now)
        if refused is not None:
            raise Unauthenticated(refused)
        with self._lock:
            last = self._touched.get(record.key_id)
        if last is None or now - last >= LAST_USED_RESOLUTION:
            return None
        return _principal(record)

    def authenticate_session(self, token: str, now: datetime | None = None) -> Principal:
        now = now or datetime.now(UTC)
        record = self._keys.session_key(key_hash(token), now)
        if record is None:
            raise Unauthenticated("the session has ended; sign in again")
        return self._admit(record, now)

    def _fresh(self, hashed: str) -> tuple[ApiKey | None] | None:
        """What the cache holds for ``hashed`` (a record, or ``None`` for no such key) while it
        is younger than ``cache_seconds``; ``None`` when the database must be asked."""
        with self._lock:
            cached = self._cache.get(hashed)
        if cached is None or time.monotonic() - cached[0] >= self._cache_seconds:
            return None
        return (cached[1],)

    def _lookup(self, hashed: str) -> ApiKey | None:
        cached = self._fresh(hashed)
        if cached is not None:
            return cached[0]
        clock = time.monotonic()
        with self._lock:
            generation = self._generation
        record = self._keys.by_hash(hashed)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            if generation == self._generation:
                self._cache[hashed] = (clock, record)
        return record

    def _admit(self, record: ApiKey, now: datetime) -> Principal:
        refused = record.usable_at(now)
        if refused is not None:
            raise Unauthenticated(refused)
        with self._lock:
            last = self._touched.get(record.key_id)
            due = last is None or now - last >= LAST_USED_RESOLUTION
            if due:
                self._touched[record.key_id] = now
        if due:
            self._keys.touch(record.key_id, now)
        return _principal(record)

    def forget(self) -> None:
        """Drop what is cached, so a revocation made in this process shows at once."""
        with self._lock:
            self._cache.clear()
            self._generation += 1


def _checked_hash(key: str) -> str:
    try:
        check_format(key)
    except MalformedKey as exc:
        raise Unauthenticated(str(exc)) from None
    return key_hash(key)


def _principal(record: ApiKey) -> Principal:
    return Principal(key_id=record.key_id, name=record.name, scopes=record.scopes)


def revoke_key(keys: KeyRepository, audit: AuditLog, key_id: str, by: Principal) -> ApiKey | None:
    revoked = keys.revoke(key_id, datetime.now(UTC))
    if revoked is not None:
        audit.record(by.name, by.key_id, "key.revoke", f"{revoked.key_id} ({revoked.name})")
    return revoked


def start_session(
    keys: KeyRepository, principal: Principal, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new session token for a signed-in key, and when it ends (never after the key)."""
    now = datetime.now(UTC)
    record = keys.get(principal.key_id)
    expires = now + lifetime
    if record is not None and record.expires_at is not None:
        expires = min(expires, record.expires_at)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    keys.add_session(key_hash(token), principal.key_id, now, expires)
    return token, expires


def end_session(keys: KeyRepository, token: str) -> None:
    keys.end_session(key_hash(token))
