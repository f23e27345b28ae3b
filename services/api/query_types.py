"""Query parameters more than one route reads the same way."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator

RFC3339_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _rfc3339(value: object) -> object:
    # Pydantic reads "0.5" as Unix time; the query says RFC 3339, so a number is refused.
    if isinstance(value, str) and not RFC3339_DATE.match(value):
        raise ValueError("must be an RFC 3339 time, e.g. 2026-05-01T12:00:00Z")
    return value


TimeQuery = Annotated[datetime, BeforeValidator(_rfc3339)]


def aware(at: datetime | None) -> datetime | None:
    """Times without an offset are taken as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
