"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is ``whsec_`` and the base64 of 24 to 64 random bytes; the key is those bytes. Each
request carries ``webhook-id`` (the same on every retry, so receivers deduplicate on it),
``webhook-timestamp`` (unix seconds, so receivers refuse replays) and ``webhook-signature``:
``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``, one per valid secret separated by
spaces while a rotated-out secret is still honoured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
NEW_KEY_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(NEW_KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret; ValueError saying what is wrong with one that has no key."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"after {SECRET_PREFIX!r} a webhook secret is base64 ({exc})") from None


def validate_secret(secret: str) -> str:
    """``secret`` when it is one a client may choose; ValueError with the reason otherwise."""
    size = len(secret_key(secret))
    if not MIN_KEY_BYTES <= size <= MAX_KEY_BYTES:
        raise ValueError(
            f"a webhook secret encodes {MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes, not {size}"
        )
    return secret


def signature(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(secret_key(s), signed, hashlib.sha256)).decode()
        for s in secrets
    )


def signed_headers(
    secrets: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secrets, message_id, timestamp, body),
    }
