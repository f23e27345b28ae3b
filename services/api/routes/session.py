"""Signing the status page in: a key with ``campaigns:read`` buys an HttpOnly, SameSite=Strict
session cookie, which every route (the SSE stream too) accepts in place of the header."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.api.deps import AuthenticatorDep, Keys, Settings
from services.domain.keys import Principal, Scope
from services.runtime.security import SESSION_COOKIE, authenticate, unauthorized
from services.service_layer.access import Unauthenticated, end_session, start_session

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=256, description="An API key with campaigns:read.")


class SessionOut(BaseModel):
    name: str = Field(description="The name of the key signed in.")
    scopes: list[Scope]
    expires_at: datetime | None = None


@router.post(
    "/v1/session",
    response_model=SessionOut,
    responses={
        status.HTTP_401_UNAUTHORIZED: {"description": "not a usable key"},
        status.HTTP_403_FORBIDDEN: {"description": "the key lacks campaigns:read"},
    },
)
async def sign_in(
    body: SignIn,
    response: Response,
    keys: Keys,
    authenticator: AuthenticatorDep,
    settings: Settings,
) -> SessionOut:
    """Sign in with a key; the answer sets the session cookie."""
    try:
        principal = await run_in_threadpool(authenticator.authenticate, body.key)
    except Unauthenticated as exc:
        raise unauthorized(str(exc)) from None
    if not principal.may(Scope.CAMPAIGNS_READ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"the API key '{principal.name}' lacks the scope 'campaigns:read' the page needs",
        )
    lifetime = timedelta(hours=settings.session_hours)
    token, expires = await run_in_threadpool(start_session, keys, principal, lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int((expires - datetime.now(expires.tzinfo)).total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )
    return SessionOut(name=principal.name, scopes=sorted(principal.scopes), expires_at=expires)


@router.get("/v1/session", response_model=SessionOut)
def who_am_i(principal: Annotated[Principal, Depends(authenticate)]) -> SessionOut:
    """The key behind this request, by header or by cookie."""
    return SessionOut(name=principal.name, scopes=sorted(principal.scopes))


@router.delete("/v1/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def sign_out(
    request: Request, _: Annotated[Principal, Depends(authenticate)], keys: Keys
) -> Response:
    """End the session and clear its cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is not None:
        end_session(keys, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
