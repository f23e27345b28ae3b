"""The monitor's and notifier's metrics port takes ``PULSE_METRICS_TOKEN`` as the API's does."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry, Counter

from services.runtime.broker import free_port, wait_for_port
from services.runtime.metrics_server import serve_metrics


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("pulse_probe", "A counter to find in the exposition.", registry=registry).inc()
    return registry


def test_with_a_token_the_exposition_wants_it_as_a_bearer() -> None:
    port = free_port()
    serve_metrics(port, "127.0.0.1", "scrape-secret", _registry())
    wait_for_port("127.0.0.1", port, timeout=10)
    url = f"http://127.0.0.1:{port}/metrics"

    anonymous = httpx.get(url, timeout=5)
    wrong = httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    right = httpx.get(url, headers={"Authorization": "Bearer scrape-secret"}, timeout=5)

    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    assert wrong.status_code == 401
    assert right.status_code == 200 and "pulse_probe_total 1.0" in right.text


def test_without_a_token_it_is_open() -> None:
    port = free_port()
    serve_metrics(port, "127.0.0.1", None, _registry())
    wait_for_port("127.0.0.1", port, timeout=10)

    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)

    assert response.status_code == 200 and "pulse_probe_total 1.0" in response.text
