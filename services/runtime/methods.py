"""``405 Method Not Allowed`` that lists every method the path takes.

Starlette answers 405 from the first route whose path matched, so ``Allow`` names only that
route's methods although another route on the same path takes others (``GET`` and ``POST
/v1/keys`` are two routes). RFC 9110 wants them all.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route


def _allowed(app: FastAPI, request: Request) -> set[str]:
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Route) and route.methods:
            scope = {**request.scope, "method": next(iter(route.methods))}
            if route.matches(scope)[0] is not Match.NONE:
                methods |= route.methods
    return methods


def list_allowed_methods(app: FastAPI) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        allowed = ", ".join(sorted(_allowed(app, request))) or (exc.headers or {}).get("Allow", "")
        return JSONResponse({"detail": exc.detail}, status_code=405, headers={"Allow": allowed})

    app.add_exception_handler(405, method_not_allowed)
