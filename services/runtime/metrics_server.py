"""The metrics port of the processes that have no HTTP app of their own (monitor, notifier).

prometheus_client serves the exposition; when ``PULSE_METRICS_TOKEN`` is set, a WSGI wrapper
wants it as a bearer token first, as the API's and ingest's ``/metrics`` do.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app, start_http_server
from prometheus_client.exposition import ThreadingWSGIServer

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def _bearer_only(app: WsgiApp, token: str) -> WsgiApp:
    expected = f"Bearer {token}"

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = environ.get("HTTP_AUTHORIZATION", "")
        if secrets.compare_digest(given.encode(), expected.encode()):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", 'Bearer realm="campaign-pulse"'),
            ],
        )
        return [b"/metrics wants the metrics token: 'Authorization: Bearer <token>'\n"]

    return guarded


def serve_metrics(
    port: int, host: str, token: str | None, registry: CollectorRegistry = REGISTRY
) -> None:
    """Serve ``registry`` on ``host:port`` from a daemon thread."""
    if token is None:
        start_http_server(port, host, registry=registry)
        return
    server = make_server(
        host,
        port,
        _bearer_only(make_wsgi_app(registry), token),
        ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
