"""A steady load of campaign status requests, meant to run as its own process.

Requests are sent open-loop: request ``k`` is due at ``start + k / rate`` whatever happened to the
ones before it, and its latency counts from when it was due, so a slow server (or a late client)
shows in the figures instead of quietly lowering the rate (no coordinated omission). How late the
client itself sent each request is reported beside (``late_p99_ms``): it is part of the latencies,
and on a busy machine it tells the client's own stalls apart from the server's.

    python -m services.bench.api_load --url http://127.0.0.1:8000 --rate 300 --seconds 20 \
        --campaign bench-0 --campaign bench-1

prints one JSON object (``ApiLoadResult``) on standard output.

The client is aiohttp on uvloop: httpx spent about 3 ms of CPU per request here, more than the API
itself, which made the load generator the bottleneck; this one spends well under 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass

import aiohttp
import uvloop


@dataclass(frozen=True)
class ApiLoadResult:
    offered_per_s: float
    achieved_per_s: float
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    late_p99_ms: float


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def generate(
    url: str,
    campaign_ids: list[str],
    rate: float,
    seconds: float,
    connections: int = 32,
    api_key: str | None = None,
) -> ApiLoadResult:
    """Request ``/v1/campaigns/{id}`` for the given ids in turn, ``rate`` times a second, with
    ``api_key`` (``campaigns:read``) as a bearer token."""
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    lateness: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with aiohttp.ClientSession(
        url, connector=connector, timeout=timeout, headers=headers
    ) as client:

        async def fetch(path: str) -> bool:
            async with client.get(path) as response:
                await response.read()
                return response.status == 200

        # Open the connections before the clock starts, as a long-running client would have.
        await asyncio.gather(*(fetch("/healthz") for _ in range(connections)))

        async def request(k: int, due: float) -> None:
            nonlocal failures
            lateness.append(time.perf_counter() - due)
            try:
                ok = await fetch(f"/v1/campaigns/{campaign_ids[k % len(campaign_ids)]}")
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - due)
            else:
                failures += 1

        started = time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        for k in range(total):
            due = started + k / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(request(k, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started

    millis = [latency * 1000 for latency in latencies]
    return ApiLoadResult(
        offered_per_s=rate,
        achieved_per_s=len(latencies) / elapsed,
        requests=total,
        failures=failures,
        p50_ms=percentile(millis, 50),
        p99_ms=percentile(millis, 99),
        max_ms=max(millis, default=float("nan")),
        late_p99_ms=percentile([late * 1000 for late in lateness], 99),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the API's base URL")
    parser.add_argument("--campaign", action="append", required=True, dest="campaigns")
    parser.add_argument("--rate", type=float, default=300, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args(argv)
    # The key comes from the environment, not the command line, where `ps` would show it.
    api_key = os.environ.get("PULSE_API_KEY")
    result = uvloop.run(
        generate(args.url, args.campaigns, args.rate, args.seconds, api_key=api_key)
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
