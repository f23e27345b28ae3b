from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from services.api.app import create_app
from services.api.routes import alerts as alerts_api
from services.api.settings import ApiSettings
from services.domain import alerting
from services.domain.alerts import Alert
from services.domain.keys import Scope
from services.domain.views import CampaignView, Contributor, CreatorView
from services.monitor.alert_keeper import AlertKeeper
from services.service_layer.access import issue_key
from services.storage.alerts import (
    AlertCreatorRow,
    AlertEventRow,
    AlertRepository,
    AlertRow,
)
from services.storage.keys import AuditLog, KeyRepository

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def alerts(engine: Engine) -> AlertRepository:
    """The alert repository on emptied tables (the PostgreSQL database is shared by tests)."""
    with engine.begin() as connection:
        connection.execute(delete(AlertEventRow))
        connection.execute(delete(AlertCreatorRow))
        connection.execute(delete(AlertRow))
    return AlertRepository(engine)


@pytest.fixture
def reader_headers(engine: Engine) -> dict[str, str]:
    """A key that may read alerts and nothing else."""
    issued = issue_key(KeyRepository(engine), "dashboard", frozenset({Scope.ALERTS_READ}))
    return {"Authorization": f"Bearer {issued.key}"}


@pytest.fixture
def keeper(alerts: AlertRepository) -> AlertKeeper:
    return AlertKeeper(alerts)


def contributors(*shares: tuple[str, float]) -> list[Contributor]:
    return [
        Contributor(
            creator_id=creator_id,
            metric="engagement_rate_by_views",
            share=share,
            baseline=0.1,
            current=0.05,
        )
        for creator_id, share in shares
    ]


def decaying(
    views: BuildViews, campaign_id: str = "spring", top: str = "bo", as_of_shift: float = 0
) -> CampaignView:
    view, _ = views(campaign_id, {"bo": "decaying", "cy": "decaying"})
    assert view.status == "decaying" and view.as_of is not None
    return view.model_copy(
        update={
            "contributors": contributors((top, 0.7), ("cy" if top == "bo" else "bo", 0.3)),
            "as_of": view.as_of + timedelta(hours=as_of_shift),
        }
    )


def healthy(views: BuildViews, campaign_id: str, as_of: datetime) -> CampaignView:
    view, _ = views(campaign_id, {"ana": "healthy"})
    assert view.status == "healthy"
    return view.model_copy(update={"as_of": as_of})


def outbox(engine: Engine) -> list[tuple[str, int, str]]:
    query = select(AlertEventRow.alert_id, AlertEventRow.revision, AlertEventRow.state).order_by(
        AlertEventRow.id
    )
    with engine.connect() as connection:
        return [(a, r, s) for a, r, s in connection.execute(query)]


def test_one_open_alert_per_campaign_and_cause_is_enforced(
    engine: Engine, alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    (alert,) = keeper.evaluate([decaying(views)], NOW)
    row = {
        "alert_id": "other",
        "campaign_id": alert.campaign_id,
        "cause": alert.cause,
        "severity": "critical",
        "status": "decaying",
        "revision": 1,
        "opened_at": NOW,
        "updated_at": NOW,
        "event_time": NOW,
        "body": {},
    }

    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(AlertRow).values({**row, "state": "firing"}))
    with engine.begin() as connection:
        connection.execute(insert(AlertRow).values({**row, "state": "resolved"}))
    with engine.begin() as connection:
        connection.execute(
            insert(AlertRow).values(
                {**row, "alert_id": "x", "cause": "cac_rise", "state": "firing"}
            )
        )


def test_the_keeper_opens_updates_and_resolves_with_one_outbox_row_per_revision(
    engine: Engine, alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    view = decaying(views)
    assert view.as_of is not None

    (opened,) = keeper.evaluate([view], NOW)
    assert keeper.evaluate([view], NOW + HOUR) == []
    (updated,) = keeper.evaluate([decaying(views, top="cy")], NOW + 2 * HOUR)
    gone = healthy(views, "spring", view.as_of + HOUR)
    assert keeper.evaluate([gone], NOW + 3 * HOUR) == []
    noted = alerts.get(opened.alert_id)
    later = gone.model_copy(update={"as_of": view.as_of + 7 * HOUR})
    (resolved,) = keeper.evaluate([later], NOW + 4 * HOUR)

    assert (opened.state, opened.revision, opened.cause) == ("firing", 1, "engagement_rate_drop")
    assert updated.alert_id == opened.alert_id
    assert (updated.revision, updated.contributors[0].creator_id) == (2, "cy")
    assert noted is not None
    assert (noted.revision, noted.clear_since) == (2, view.as_of + HOUR)
    assert (resolved.state, resolved.resolved_by, resolved.revision) == ("resolved", "monitor", 3)
    assert alerts.get(opened.alert_id) == resolved
    assert alerts.open_alerts(["spring"]) == {}
    assert outbox(engine) == [
        (opened.alert_id, 1, "firing"),
        (opened.alert_id, 2, "firing"),
        (opened.alert_id, 3, "resolved"),
    ]
    assert [a for _, a in alerts.events_after(0)] == [opened, updated, resolved]


def test_acknowledge_and_resolve_write_the_outbox_once(
    engine: Engine, alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    (alert,) = keeper.evaluate([decaying(views)], NOW)

    acked = alerts.acknowledge(alert.alert_id, NOW + HOUR, "ana")
    again = alerts.acknowledge(alert.alert_id, NOW + 2 * HOUR, "ana")
    resolved = alerts.resolve(alert.alert_id, NOW + 3 * HOUR, "ana")
    resolved_again = alerts.resolve(alert.alert_id, NOW + 4 * HOUR, "ana")

    assert acked is not None and resolved is not None
    assert (acked.state, acked.revision, acked.acknowledged_at) == ("acknowledged", 2, NOW + HOUR)
    assert again == acked
    assert (resolved.state, resolved.revision, resolved.resolved_by) == ("resolved", 3, "ana")
    assert resolved_again == resolved
    assert [(r, s) for _, r, s in outbox(engine)] == [
        (1, "firing"),
        (2, "acknowledged"),
        (3, "resolved"),
    ]
    assert alerts.acknowledge("nope", NOW, "ana") is None
    assert alerts.resolve("nope", NOW, "ana") is None
    assert alerts.get("nope") is None


def test_an_update_computed_before_an_acknowledgement_is_not_written(
    engine: Engine, alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    (alert,) = keeper.evaluate([decaying(views)], NOW)
    (action,) = alerting.evaluate(
        decaying(views, top="cy"), {alert.cause: alert}, NOW + HOUR, alerting.DEFAULT_POLICY
    )
    acked = alerts.acknowledge(alert.alert_id, NOW + HOUR, "ana")

    assert alerts.apply([action.alert]) == []
    assert alerts.get(alert.alert_id) == acked
    (updated,) = keeper.evaluate([decaying(views, top="cy")], NOW + 2 * HOUR)
    assert (updated.state, updated.revision) == ("acknowledged", 3)
    assert len(outbox(engine)) == 3


def test_a_second_open_alert_for_a_cause_is_skipped_and_the_rest_written(
    alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    keeper.evaluate([decaying(views)], NOW)
    duplicate = alerting.evaluate(decaying(views), {}, NOW)[0].alert
    elsewhere = alerting.evaluate(decaying(views, "summer"), {}, NOW)[0].alert

    assert alerts.apply([duplicate, elsewhere]) == [elsewhere]
    assert alerts.get(duplicate.alert_id) is None
    assert set(alerts.open_alerts(["spring", "summer"])) == {
        ("spring", "engagement_rate_drop"),
        ("summer", "engagement_rate_drop"),
    }


def test_a_cause_resolved_by_hand_reopens_only_after_it_cleared(
    engine: Engine, alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    view = decaying(views)
    assert view.as_of is not None
    (first,) = keeper.evaluate([view], NOW)
    alerts.resolve(first.alert_id, NOW + HOUR, "ana")

    assert keeper.evaluate([view], NOW + 2 * HOUR) == []
    assert keeper.evaluate([healthy(views, "spring", view.as_of)], NOW + 3 * HOUR) == []
    assert alerts.open_alerts(["spring"]) == {}
    (second,) = keeper.evaluate([view], NOW + 4 * HOUR)

    assert second.alert_id != first.alert_id
    assert [(a, r) for a, r, _ in outbox(engine)] == [
        (first.alert_id, 1),
        (first.alert_id, 2),
        (second.alert_id, 1),
    ]


@pytest.fixture
def history(alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews) -> dict[str, Alert]:
    """spring (bo, cy) opened first and acknowledged, summer (dee, bo) resolved by hand, autumn
    (bo, cy) firing."""
    (spring,) = keeper.evaluate([decaying(views, "spring", top="bo")], NOW)
    (summer,) = keeper.evaluate([decaying(views, "summer", top="dee")], NOW + HOUR)
    (autumn,) = keeper.evaluate([decaying(views, "autumn", top="bo")], NOW + 2 * HOUR)
    acked = alerts.acknowledge(spring.alert_id, NOW + 3 * HOUR, "ana")
    resolved = alerts.resolve(summer.alert_id, NOW + 3 * HOUR, "ana")
    assert acked is not None and resolved is not None
    return {"spring": acked, "summer": resolved, "autumn": autumn}


def test_list_filters_and_pages_newest_first(
    alerts: AlertRepository, history: dict[str, Alert]
) -> None:
    spring, summer, autumn = history["spring"], history["summer"], history["autumn"]

    assert alerts.list() == ([autumn, summer, spring], 3)
    assert alerts.list(limit=1, offset=1) == ([summer], 3)
    assert alerts.list(campaign_id="summer") == ([summer], 1)
    assert alerts.list(creator_id="cy") == ([autumn, spring], 2)
    assert alerts.list(creator_id="dee") == ([summer], 1)
    assert alerts.list(creator_id="bo", limit=2) == ([autumn, summer], 3)
    assert alerts.list(creator_id="nobody") == ([], 0)
    assert alerts.list(state="acknowledged") == ([spring], 1)
    assert alerts.list(state="resolved") == ([summer], 1)
    assert alerts.list(until=NOW + HOUR) == ([spring], 1)
    assert alerts.list(since=NOW + 4 * HOUR) == ([autumn, spring], 2)
    assert alerts.list(since=NOW, until=NOW + 90 * timedelta(minutes=1)) == ([summer, spring], 2)


def _json(alert: Alert) -> object:
    return alert.model_dump(mode="json")


async def test_api_lists_and_filters(client: httpx.AsyncClient, history: dict[str, Alert]) -> None:
    spring, summer, autumn = history["spring"], history["summer"], history["autumn"]

    everything = (await client.get("/v1/alerts")).json()
    page = (await client.get("/v1/alerts", params={"limit": 2, "offset": 1})).json()
    by_state = (await client.get("/v1/alerts", params={"state": "firing"})).json()
    by_creator = (await client.get("/v1/alerts", params={"creator_id": "dee"})).json()
    by_campaign = (await client.get("/v1/alerts", params={"campaign_id": "spring"})).json()
    by_time = (
        await client.get(
            "/v1/alerts", params={"since": "2025-06-01T15:30:00Z", "until": "2025-06-01T14:30:00"}
        )
    ).json()

    assert everything == {
        "items": [_json(autumn), _json(summer), _json(spring)],
        "total": 3,
        "limit": 100,
        "offset": 0,
    }
    assert page == {"items": [_json(summer), _json(spring)], "total": 3, "limit": 2, "offset": 1}
    assert by_state["items"] == [_json(autumn)]
    assert (by_creator["items"], by_creator["total"]) == ([_json(summer)], 1)
    assert by_campaign["items"] == [_json(spring)]
    assert by_time["items"] == [_json(autumn), _json(spring)]


@pytest.mark.parametrize(
    "params",
    [{"state": "open"}, {"limit": 0}, {"limit": 501}, {"offset": -1}, {"since": "yesterday"}],
)
async def test_api_rejects_bad_queries(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    response = await client.get("/v1/alerts", params=params)

    assert response.status_code == 422
    (name,) = params
    assert response.json()["detail"][0]["loc"] == ["query", name]


async def test_api_gets_acknowledges_and_resolves_under_the_keys_name(
    app: FastAPI,
    client: httpx.AsyncClient,
    alerts: AlertRepository,
    history: dict[str, Alert],
    engine: Engine,
) -> None:
    autumn = history["autumn"]
    path = f"/v1/alerts/{autumn.alert_id}"
    oncall = issue_key(app.state.keys, "oncall-ana", frozenset({Scope.ALERTS_WRITE}))
    as_oncall = {"Authorization": f"Bearer {oncall.key}"}

    got = await client.get(path)
    acked = await client.post(f"{path}/ack", headers=as_oncall)
    acked_again = await client.post(f"{path}/ack", headers=as_oncall)
    resolved = await client.post(f"{path}/resolve", headers=as_oncall)

    assert got.status_code == 200 and got.json() == _json(autumn)
    assert acked.status_code == 200
    assert (acked.json()["state"], acked.json()["revision"]) == ("acknowledged", 2)
    assert acked.json()["acknowledged_by"] == "oncall-ana"
    assert acked_again.json() == acked.json()
    assert (resolved.json()["state"], resolved.json()["resolved_by"]) == ("resolved", "oncall-ana")
    stored = alerts.get(autumn.alert_id)
    assert stored is not None and resolved.json() == _json(stored)
    entries, _ = AuditLog(engine).entries()
    assert [(e["actor"], e["action"], e["target"]) for e in reversed(entries)][-2:] == [
        ("oncall-ana", "alert.acknowledge", autumn.alert_id),
        ("oncall-ana", "alert.resolve", autumn.alert_id),
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/alerts/nope"),
        ("POST", "/v1/alerts/nope/ack"),
        ("POST", "/v1/alerts/nope/resolve"),
    ],
)
async def test_api_unknown_alerts_are_404(
    client: httpx.AsyncClient, alerts: AlertRepository, method: str, path: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 404
    assert response.json() == {"detail": "alert 'nope' not found"}


@pytest.fixture
def server(database_url: str, alerts: AlertRepository) -> Iterator[str]:
    """The API served by a real uvicorn on a free port, in a thread; stopped after the test."""
    app = create_app(ApiSettings.model_validate({"DATABASE_URL": database_url}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


class EventReader:
    """Reads a Server-Sent Events response line by line: alert events and comments."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def events(self, count: int) -> list[tuple[int, Alert]]:
        found: list[tuple[int, Alert]] = []
        fields: dict[str, str] = {}
        async with asyncio.timeout(15):
            async for line in self._lines:
                if line.startswith(":"):
                    self.comments.append(line)
                elif line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                else:
                    if fields.get("event") == "alert":
                        alert = Alert.model_validate(json.loads(fields["data"]))
                        found.append((int(fields["id"]), alert))
                        if len(found) == count:
                            return found
                    fields = {}
        raise AssertionError(f"the stream ended after {len(found)} events")

    async def comment(self) -> str:
        async with asyncio.timeout(5):
            async for line in self._lines:
                if line.startswith(":"):
                    return line
        raise AssertionError("the stream ended without a comment")


async def test_sse_streams_new_revisions_replays_and_keeps_alive(
    server: str,
    reader_headers: dict[str, str],
    alerts: AlertRepository,
    keeper: AlertKeeper,
    views: BuildViews,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alerts_api, "POLL_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(alerts_api, "KEEP_ALIVE_SECONDS", 0.2)
    (before,) = keeper.evaluate([decaying(views, "winter")], NOW)

    async with (
        httpx.AsyncClient(base_url=server, timeout=10, headers=reader_headers) as client,
        client.stream("GET", "/v1/alerts/stream") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        (opened,) = await asyncio.to_thread(keeper.evaluate, [decaying(views)], NOW)
        acked = await asyncio.to_thread(alerts.acknowledge, opened.alert_id, NOW + HOUR, "ana")
        reader = EventReader(response)
        live = await reader.events(2)
        keep_alive = await reader.comment()

    assert [alert for _, alert in live] == [opened, acked]
    assert live[0][0] < live[1][0]
    assert all(alert.alert_id != before.alert_id for _, alert in live)
    assert keep_alive == ": keep-alive"

    first_id = live[0][0]
    async with (
        httpx.AsyncClient(base_url=server, timeout=10, headers=reader_headers) as client,
        client.stream(
            "GET", "/v1/alerts/stream", headers={"Last-Event-ID": str(first_id)}
        ) as response,
    ):
        replayed = await EventReader(response).events(1)
    assert replayed == [live[1]]

    async with httpx.AsyncClient(base_url=server, timeout=10, headers=reader_headers) as client:
        bad = await client.get("/v1/alerts/stream", headers={"Last-Event-ID": "soon"})
    assert bad.status_code == 400


def test_a_collapsing_creator_gets_an_alert_of_its_own_while_its_campaign_holds(
    alerts: AlertRepository, keeper: AlertKeeper, views: BuildViews
) -> None:
    long_id = "creator-" + "x" * 100
    campaign, creators = views("large", {"ana": "decaying", long_id: "decaying", "bo": "healthy"})
    campaign = campaign.model_copy(update={"status": "healthy", "reasons": [], "contributors": []})
    ana = next(c for c in creators if c.creator_id == "ana")
    assert ana.as_of is not None and campaign.as_of is not None

    opened = keeper.evaluate([campaign], NOW, creators)
    assert {(a.creator_id, a.cause, a.severity) for a in opened} == {
        ("ana", "creator:ana:engagement_rate_drop", "critical"),
        (long_id, f"creator:{long_id}:engagement_rate_drop", "critical"),
    }
    mine = next(a for a in opened if a.creator_id == "ana")
    assert alerts.list(creator_id="ana") == ([mine], 1)
    assert alerts.list(creator_id="bo") == ([], 0)
    # The campaign's own evaluation, hours later, neither resolves nor repeats a creator's alert;
    # the creator's, still decaying, keeps its one alert.
    later = campaign.model_copy(update={"as_of": campaign.as_of + 7 * HOUR})
    assert keeper.evaluate([later], NOW + HOUR, [ana]) == []
    assert alerts.list(creator_id="ana", state="firing") == ([mine], 1)
    # Once the creator has been clear for six hours of event time, it resolves.
    clear = ana.model_copy(update={"status": "healthy", "reasons": [], "as_of": ana.as_of + HOUR})
    assert keeper.evaluate([], NOW + 2 * HOUR, [clear]) == []
    gone = clear.model_copy(update={"as_of": ana.as_of + 8 * HOUR})
    (resolved,) = keeper.evaluate([], NOW + 3 * HOUR, [gone])
    assert (resolved.alert_id, resolved.state, resolved.creator_id) == (
        mine.alert_id,
        "resolved",
        "ana",
    )


async def test_api_finds_a_creator_level_alert_by_its_creator(
    client: httpx.AsyncClient, keeper: AlertKeeper, views: BuildViews
) -> None:
    _, creators = views("large", {"ana": "decaying", "bo": "healthy"})
    (alert,) = keeper.evaluate([], NOW, creators)

    found = (await client.get("/v1/alerts", params={"creator_id": "ana"})).json()
    assert found["items"] == [_json(alert)]
    assert found["items"][0]["creator_id"] == "ana"
    assert (await client.get(f"/v1/alerts/{alert.alert_id}")).json()["creator_id"] == "ana"
