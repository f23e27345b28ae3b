"""API keys (scope ``keys:admin``) and the audit log of who changed what (scope ``admin``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.api.deps import Admin, Audit, AuthenticatorDep, Keys, KeysAdmin
from services.domain.keys import ApiKey, Scope
from services.service_layer.access import InvalidKeyRequest, issue_key, revoke_key

router = APIRouter(tags=["keys"])

KeyName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][\w.@:-]*$")]


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(description="Who or what uses the key; shown in the audit log.")
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_at: AwareDatetime | None = Field(
        default=None, description="RFC 3339; the key is refused from then on. Never when absent."
    )


class KeyOut(BaseModel):
    key_id: str
    name: str
    scopes: list[Scope]
    last_four: str = Field(description="The key's last four characters, to tell keys apart.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute.")
    revoked_at: datetime | None
    created_by: str | None


class NewKey(KeyOut):
    key: str = Field(description="The key itself: shown once, here, and never again.")


class KeyList(BaseModel):
    items: list[KeyOut]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="The name of the key that acted.")
    key_id: str | None
    action: str
    target: str


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


def _out(key: ApiKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id,
        name=key.name,
        scopes=sorted(key.scopes),
        last_four=key.last_four,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        created_by=key.created_by,
    )


def _not_found(key_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"key '{key_id}' not found")


@router.post(
    "/v1/keys",
    response_model=NewKey,
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_422_UNPROCESSABLE_CONTENT: {"description": "invalid name or scopes"}},
)
def create_key(body: KeyCreate, principal: KeysAdmin, keys: Keys, audit: Audit) -> NewKey:
    """Make a key with the given scopes. The answer holds the key; it is not stored anywhere."""
    try:
        issued = issue_key(
            keys, body.name, frozenset(body.scopes), body.expires_at, created_by=principal.name
        )
    except InvalidKeyRequest as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    audit.record(principal.name, principal.key_id, "key.create", issued.record.key_id)
    return NewKey(key=issued.key, **_out(issued.record).model_dump())


@router.get("/v1/keys", response_model=KeyList)
def list_keys(_: KeysAdmin, keys: Keys, include_revoked: bool = False) -> KeyList:
    """Keys, oldest first; never the keys themselves."""
    return KeyList(items=[_out(k) for k in keys.list(include_revoked)])


@router.get(
    "/v1/keys/{key_id}",
    response_model=KeyOut,
    responses={status.HTTP_404_NOT_FOUND: {"description": "no such key"}},
)
def get_key(key_id: str, _: KeysAdmin, keys: Keys) -> KeyOut:
    key = keys.get(key_id)
    if key is None:
        raise _not_found(key_id)
    return _out(key)


@router.delete(
    "/v1/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={status.HTTP_404_NOT_FOUND: {"description": "no such key"}},
)
def revoke(
    key_id: str, principal: KeysAdmin, keys: Keys, audit: Audit, authenticator: AuthenticatorDep
) -> Response:
    """Revoke a key and end its sessions. Other API and ingest processes refuse it within
    ``PULSE_KEY_CACHE_SECONDS``."""
    if revoke_key(keys, audit, key_id, principal) is None:
        raise _not_found(key_id)
    authenticator.forget()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/audit", response_model=AuditPage, tags=["audit"])
def audit_log(
    _: Admin,
    audit: Audit,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> AuditPage:
    """Who acknowledged, resolved, configured, created or deleted what, newest first."""
    entries, total = audit.entries(limit, offset)
    return AuditPage(
        items=[AuditEntry.model_validate(e) for e in entries],
        total=total,
        limit=limit,
        offset=offset,
    )
