"""API keys: their format, their scopes, and who they say acted.

A key reads ``pulse_`` + 30 random base62 characters (178 bits) + 6 base62 characters of the
CRC32 of the body. The checksum lets a server refuse a mistyped or truncated key before any
database lookup, and lets secret scanners recognise a real key, as GitHub's tokens do. Only the
SHA-256 of a key is stored: a key is long and random, so a salt or a slow hash adds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

KEY_PREFIX = "pulse_"
BODY_LENGTH = 30
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(KEY_PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH
SHOWN_CHARACTERS = 4
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
RESERVED_NAMES = frozenset({"monitor"})
"""Names no key may take: ``monitor`` is who resolves an alert whose cause has cleared."""


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    KEYS_ADMIN = "keys:admin"
    ADMIN = "admin"


class MalformedKey(ValueError):
    """The text cannot be a key of ours; no lookup is needed to say so."""


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_key() -> str:
    body = "".join(secrets.choice(BASE62) for _ in range(BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{_checksum(body)}"


def check_format(key: str) -> None:
    """Raise ``MalformedKey`` saying why ``key`` is not a well-formed key."""
    if not key.startswith(KEY_PREFIX):
        raise MalformedKey(f"an API key starts with '{KEY_PREFIX}'")
    if len(key) != KEY_LENGTH:
        raise MalformedKey(f"an API key is {KEY_LENGTH} characters long, this one {len(key)}")
    rest = key[len(KEY_PREFIX) :]
    if any(character not in BASE62 for character in rest):
        raise MalformedKey("an API key has only letters and digits after its prefix")
    body, checksum = rest[:BODY_LENGTH], rest[BODY_LENGTH:]
    if not secrets.compare_digest(_checksum(body), checksum):
        raise MalformedKey("the API key's checksum does not match: it was mistyped or cut short")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def grants(granted: frozenset[Scope], required: Scope) -> bool:
    return Scope.ADMIN in granted or required in granted


@dataclass(frozen=True)
class ApiKey:
    """A key as stored: everything but the key itself."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    last_four: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None

    def usable_at(self, now: datetime) -> str | None:
        """``None`` when the key may be used at ``now``, else why not."""
        if self.revoked_at is not None:
            return f"the API key '{self.name}' was revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return f"the API key '{self.name}' expired at {self.expires_at.isoformat()}"
        return None


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a key's id and name, and what it may do."""

    key_id: str
    name: str
    scopes: frozenset[Scope]

    def may(self, scope: Scope) -> bool:
        return grants(self.scopes, scope)
