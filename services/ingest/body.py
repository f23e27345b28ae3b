"""Reading and decoding an ingest request body without trusting the client.

The body is counted while it streams in and refused at the limit, so an upload of any size costs
at most the limit in memory; the content type is checked before a byte of it is read. orjson
refuses what would hurt a parser (nesting deeper than 1,024 levels, numbers beyond a double,
invalid UTF-8) with a message that names it, which the client gets as 400.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect

from services.domain.events import EVENT_ADAPTER, FieldError

JSON_TYPE = "application/json"
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/ndjson")
# Refused with 413 and the connection closed, so the client stops sending the rest.
_CLOSE = {"Connection": "close"}


def media_type(request: Request) -> str:
    """The request's media type; 415 for anything but JSON or NDJSON. A request without one is
    read as JSON, as clients that post bytes without a header have always been."""
    header = request.headers.get("content-type")
    if header is None:
        return JSON_TYPE
    kind = header.split(";")[0].strip().lower()
    if (
        kind == JSON_TYPE
        or kind in NDJSON_TYPES
        or (kind.startswith("application/") and kind.endswith("+json"))
    ):
        return kind
    raise HTTPException(
        415,
        f"content-type '{header[:100]}' is not accepted: send {JSON_TYPE} (an array of events or "
        f"one event) or {NDJSON_TYPES[0]} (one event a line)",
    )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"body is larger than the limit of {limit} bytes", headers=_CLOSE)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _too_large(limit)
    except ClientDisconnect:
        # Nobody is left to read the answer; a 400 keeps it out of the server-error logs.
        raise HTTPException(400, "the client went away before the body was complete") from None
    return bytes(body)


def decode(body: bytes, kind: str) -> tuple[list[Any], list[FieldError]]:
    """Return the items and, for NDJSON, the lines that are not JSON at all."""
    if kind in NDJSON_TYPES:
        items: list[Any] = []
        errors: list[FieldError] = []
        lines = [line for line in body.splitlines() if line.strip()]
        for index, line in enumerate(lines):
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(None)
                errors.append(
                    FieldError(index=index, field="(line)", reason=f"invalid JSON: {exc}")
                )
        return items, errors
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not valid JSON: {exc}") from exc
    if isinstance(decoded, dict):
        return [decoded], []
    if isinstance(decoded, list):
        return decoded, []
    raise HTTPException(422, "body must be a JSON array of events, an event object, or NDJSON")


def body_document() -> dict[str, Any]:
    """The ``requestBody`` of ``POST /v1/events`` in the OpenAPI document, read from the event
    models; their definitions sit inside it, so the references point there. The size limits are
    the server's, answered with 413, not a property of a valid body: they are not in the schema."""
    pointer = "#/paths/~1v1~1events/post/requestBody/content/application~1json/schema/$defs/{model}"
    event = EVENT_ADAPTER.json_schema(ref_template=pointer)
    definitions = event.pop("$defs")
    batch = {"type": "array", "items": event, "minItems": 1}
    return {
        "required": True,
        "content": {
            JSON_TYPE: {"schema": {"$defs": definitions, "anyOf": [batch, event]}},
            NDJSON_TYPES[0]: {
                "schema": {"type": "string", "description": "one event object a line"}
            },
        },
    }
