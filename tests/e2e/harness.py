"""Drive the services as real processes: send events, read the API, wait for results."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from services.runtime.stack import Stack, StackConfig

T = TypeVar("T")


class RunningStack:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.config = stack.config
        headers = stack.auth_headers()
        self.ingest = httpx.Client(base_url=self.config.ingest_url, timeout=30, headers=headers)
        self.api = httpx.Client(base_url=self.config.api_url, timeout=30, headers=headers)

    def send(self, events: list[dict[str, Any]]) -> httpx.Response:
        return self.ingest.post("/v1/events", json=events)

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        response = self.api.get(f"/v1/campaigns/{campaign_id}")
        return response.json() if response.status_code == 200 else None

    def creator(self, campaign_id: str, creator_id: str) -> dict[str, Any] | None:
        response = self.api.get(f"/v1/campaigns/{campaign_id}/creators/{creator_id}")
        return response.json() if response.status_code == 200 else None

    def close(self) -> None:
        self.ingest.close()
        self.api.close()


def eventually(probe: Callable[[], T | None], timeout: float = 60, every: float = 0.2) -> T:
    """Poll until ``probe`` returns something truthy; return it, or fail with the last value."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s; last value: {last!r}")


# Receivers on loopback; the notifier's retry waits (5 s, 5 min, …) at a hundredth.
LOCAL_RECEIVERS = {"PULSE_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8", "PULSE_NOTIFIER_TIME_SCALE": "0.01"}


def stack_config(bootstrap: str, database_url: str, run_dir: Path) -> StackConfig:
    """An isolated stack whose notifier may deliver to the tests' receivers on loopback."""
    config = StackConfig.isolated(bootstrap, database_url, run_dir, "e2e")
    return replace(config, extra_env=LOCAL_RECEIVERS)
