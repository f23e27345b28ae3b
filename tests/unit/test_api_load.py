"""The benchmark's API load generator against a tiny server on loopback: every request it was due
to send is sent, answers other than 200 count as failures, and the campaigns are asked alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from services.bench.api_load import generate, percentile
from services.runtime.broker import free_port


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    asked: list[str] = []

    async def campaign(request: web.Request) -> web.Response:
        campaign_id = request.match_info["campaign_id"]
        asked.append(campaign_id)
        if campaign_id == "missing":
            raise web.HTTPNotFound()
        return web.json_response({"campaign_id": campaign_id})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.add_routes([web.get("/healthz", healthz), web.get("/v1/campaigns/{campaign_id}", campaign)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        await runner.cleanup()


async def test_every_due_request_is_sent_and_failures_are_counted(
    server: tuple[str, list[str]],
) -> None:
    url, asked = server

    result = await generate(url, ["a", "b", "missing"], rate=60, seconds=0.5, connections=4)

    assert result.requests == 30
    assert result.failures == 10
    assert Counter(asked) == {"a": 10, "b": 10, "missing": 10}
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.late_p99_ms >= 0


def test_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
