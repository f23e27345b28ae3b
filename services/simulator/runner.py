"""Feed simulated campaigns to the ingest service over HTTP, on a simulated clock.

The clock starts ``history`` before now and runs ``speed`` times faster than real time until it
catches up with the wall clock, then in real time, so no event is ever sent from the future.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)
from tqdm import tqdm

from services.simulator.draws import rfc3339
from services.simulator.model import EventPayload, Simulation
from services.simulator.plans import generate_campaigns, ground_truth

log = structlog.get_logger(__name__)

TICK_SECONDS = 0.5
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True)
class RunCounts:
    sent: int
    accepted: int
    rejected: int


class _Retryable(Exception):
    """The ingest service answered with a status worth retrying."""


def write_ground_truth(path: Path, truth: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")


def _outcome(response: httpx.Response, size: int) -> tuple[int, list[Any]]:
    """Accepted count and per-item errors from an ingest answer that is not retried."""
    try:
        body = response.json()
    except ValueError:
        body = None
    details = body if isinstance(body, dict) else {}
    errors = details.get("errors")
    errors = errors if isinstance(errors, list) else []
    accepted = details.get("accepted")
    if not isinstance(accepted, int):
        accepted = size - len(errors) if response.is_success else 0
    if accepted < size and not errors:
        errors = [body if body is not None else response.text[:500]]
    return accepted, errors


async def _sleep_or_stop(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


async def _post_batch(
    client: httpx.AsyncClient, url: str, batch: list[EventPayload], stop: asyncio.Event | None
) -> tuple[int, int]:
    """POST one batch until ingest answers for good; return (accepted, rejected)."""

    def stopping(_: RetryCallState) -> bool:
        return stop is not None and stop.is_set()

    def note_retry(state: RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        log.warning("ingest unavailable, retrying", attempt=state.attempt_number, error=str(error))

    response: httpx.Response | None = None
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((httpx.TransportError, _Retryable)),
        wait=wait_exponential_jitter(initial=0.2, max=10.0, jitter=0.25),
        stop=stopping,
        sleep=lambda seconds: _sleep_or_stop(seconds, stop),
        before_sleep=note_retry,
        reraise=True,
    ):
        with attempt:
            response = await client.post(url, json=batch)
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {response.status_code}")
    assert response is not None
    accepted, errors = _outcome(response, len(batch))
    if errors:
        log.error(
            "ingest rejected events",
            status=response.status_code,
            rejected=len(batch) - accepted,
            errors=errors[:10],
        )
    return accepted, len(batch) - accepted


async def run_simulation(
    ingest_url: str,
    *,
    seed: int,
    campaigns: int,
    history: timedelta,
    speed: float,
    batch_size: int,
    truth_path: Path,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    api_key: str | None = None,
) -> RunCounts:
    """Send simulated events until ``duration`` seconds pass, ``stop`` is set or the campaigns end.

    Batches that meet a connection error or a 503 are retried with backoff until they go through
    (or ``stop`` is set); ``transport`` lets tests answer without a server. ``api_key`` needs the
    scope ``events:write``.
    """
    if speed <= 0 or batch_size <= 0:
        raise ValueError("speed and batch_size must be positive")
    started = time.monotonic()
    sim_start = datetime.now(UTC).replace(microsecond=0) - history
    plans = generate_campaigns(seed, campaigns, sim_start, history)
    write_ground_truth(truth_path, list(ground_truth(plans)))
    simulation = Simulation(plans, sim_start)
    url = ingest_url.rstrip("/") + "/v1/events"
    log.info(
        "simulation started", campaigns=campaigns, start=rfc3339(sim_start), truth=str(truth_path)
    )
    sent = accepted = rejected = 0
    progress = tqdm(unit="ev", desc="simulate", disable=not sys.stderr.isatty(), leave=False)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx.AsyncClient(transport=transport, timeout=30.0, headers=headers) as client:
        try:
            while not simulation.finished and not (stop is not None and stop.is_set()):
                elapsed = time.monotonic() - started
                clock = min(sim_start + timedelta(seconds=elapsed * speed), datetime.now(UTC))
                events = [d.event for d in simulation.advance(clock)]
                for offset in range(0, len(events), batch_size):
                    batch = events[offset : offset + batch_size]
                    ok, bad = await _post_batch(client, url, batch, stop)
                    sent += len(batch)
                    accepted += ok
                    rejected += bad
                    progress.update(len(batch))
                progress.set_postfix_str(f"clock {rfc3339(clock)} rejected {rejected}")
                if duration is not None and time.monotonic() - started >= duration:
                    break
                await _sleep_or_stop(TICK_SECONDS, stop)
        except (httpx.TransportError, _Retryable) as exc:
            log.warning("simulation stopped while ingest was unavailable", error=str(exc))
        finally:
            progress.close()
    log.info("simulation ended", sent=sent, accepted=accepted, rejected=rejected)
    return RunCounts(sent=sent, accepted=accepted, rejected=rejected)
