"""Who may call a route: the FastAPI security dependencies ingest and the API share.

A request shows an API key as ``Authorization: Bearer <key>``, or, from the status page, the
session cookie a sign-in set (``EventSource`` cannot send headers). A missing or unusable key is
401 with ``WWW-Authenticate``; a usable key without the route's scope is 403 naming the scope.
The app keeps its ``Authenticator`` in ``app.state.authenticator``.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from starlette.concurrency import run_in_threadpool

from services.domain.keys import Principal, Scope
from services.service_layer.access import Authenticator, Unauthenticated

SESSION_COOKIE = "pulse_session"
REALM = "campaign-pulse"

bearer = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="pulse_…",
    description="An API key: `Authorization: Bearer pulse_…` (see `pulse keys create`).",
    auto_error=False,
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="The status page's sign-in session (POST /v1/session).",
    auto_error=False,
)


def _challenge(error: str | None, description: str, scope: str | None = None) -> dict[str, str]:
    """RFC 6750's challenge: no ``error`` when the request brought no credentials at all."""
    parts = [f'Bearer realm="{REALM}"']
    if error is not None:
        parts.append(f'error="{error}"')
    parts.append(f'error_description="{description.replace(chr(34), chr(39))}"')
    if scope is not None:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": ", ".join(parts)}


def unauthorized(reason: str, credentials_given: bool = True) -> HTTPException:
    error = "invalid_token" if credentials_given else None
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers=_challenge(error, reason))


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The caller, by key or by session; any route that names a scope goes through this."""
    authenticator = _authenticator(request)
    try:
        if credentials is not None:
            # A key seen in the last few seconds is answered on the event loop; only a lookup
            # takes a worker thread, so a busy client's requests do not queue for threads twice.
            cached = authenticator.authenticate_cached(credentials.credentials)
            if cached is not None:
                return cached
            return await run_in_threadpool(authenticator.authenticate, credentials.credentials)
        if session is not None:
            return await run_in_threadpool(authenticator.authenticate_session, session)
    except Unauthenticated as exc:
        raise unauthorized(str(exc)) from None
    if "authorization" in request.headers:
        raise unauthorized("the Authorization header must read 'Bearer <API key>'")
    raise unauthorized(
        "an API key is needed: send 'Authorization: Bearer <API key>'", credentials_given=False
    )


async def authorize(
    security_scopes: SecurityScopes,
    principal: Annotated[Principal, Depends(authenticate)],
) -> Principal:
    for scope in security_scopes.scopes:
        if not principal.may(Scope(scope)):
            reason = f"the API key '{principal.name}' lacks the scope '{scope}'"
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                reason,
                headers=_challenge("insufficient_scope", reason, scope),
            )
    return principal


EventsWriter = Annotated[Principal, Security(authorize, scopes=[Scope.EVENTS_WRITE.value])]
CampaignsReader = Annotated[Principal, Security(authorize, scopes=[Scope.CAMPAIGNS_READ.value])]
CampaignsWriter = Annotated[Principal, Security(authorize, scopes=[Scope.CAMPAIGNS_WRITE.value])]
AlertsReader = Annotated[Principal, Security(authorize, scopes=[Scope.ALERTS_READ.value])]
AlertsWriter = Annotated[Principal, Security(authorize, scopes=[Scope.ALERTS_WRITE.value])]
WebhooksReader = Annotated[Principal, Security(authorize, scopes=[Scope.WEBHOOKS_READ.value])]
WebhooksWriter = Annotated[Principal, Security(authorize, scopes=[Scope.WEBHOOKS_WRITE.value])]
KeysAdmin = Annotated[Principal, Security(authorize, scopes=[Scope.KEYS_ADMIN.value])]
Admin = Annotated[Principal, Security(authorize, scopes=[Scope.ADMIN.value])]


def metrics_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Open unless the service was given a metrics token; then that token as a bearer."""
    token: str | None = request.app.state.metrics_token
    if token is None:
        return
    if credentials is None or not secrets.compare_digest(credentials.credentials, token):
        raise unauthorized("/metrics wants the metrics token: 'Authorization: Bearer <token>'")
