from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from services.domain.views import CampaignView, CreatorView
from services.storage.db import SQLITE_BUSY_TIMEOUT_MS, alembic_config, make_engine, migrate
from services.storage.repository import StatusRepository

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]


def test_views_get_the_shapes_they_are_built_for(views: BuildViews) -> None:
    campaign, creators = views(
        "c1", {"a": "healthy", "b": "watch", "c": "decaying", "d": "insufficient_data"}
    )
    assert [c.status for c in creators] == ["healthy", "watch", "decaying", "insufficient_data"]
    assert campaign.status == "decaying"
    assert campaign.currency == "USD"


def test_saved_views_read_back_equal(repository: StatusRepository, views: BuildViews) -> None:
    campaign, creators = views("c1", {"a": "decaying", "b": "healthy"})
    repository.save([campaign], creators)

    assert repository.get_campaign("c1") == campaign
    assert repository.get_creator("c1", "a") == creators[0]
    assert repository.get_creator("c1", "b") == creators[1]


def test_a_campaign_reads_back_as_the_json_of_its_view(
    repository: StatusRepository, views: BuildViews
) -> None:
    campaign, creators = views("c1", {"a": "decaying", "b": "healthy"})
    repository.save([campaign], creators)

    body = repository.campaign_json("c1")

    assert body is not None
    assert CampaignView.model_validate_json(body) == campaign
    assert orjson.loads(body) == campaign.model_dump(mode="json")
    assert repository.campaign_json("nope") is None


def test_a_campaign_without_data_keeps_its_nulls(
    repository: StatusRepository, views: BuildViews
) -> None:
    campaign, _ = views("empty", {}, currency=None)
    repository.save([campaign], [])

    stored = repository.get_campaign("empty")
    assert stored == campaign
    assert stored.as_of is None
    assert stored.currency is None
    assert repository.campaign_currencies(["empty"]) == {}


def test_unknown_ids_are_none(repository: StatusRepository, views: BuildViews) -> None:
    campaign, creators = views("c1", {"a": "healthy"})
    repository.save([campaign], creators)

    assert repository.get_campaign("nope") is None
    assert repository.get_creator("c1", "nope") is None
    assert repository.get_creator("nope", "a") is None
    assert repository.list_creators("nope") == []


def test_saving_again_overwrites(repository: StatusRepository, views: BuildViews) -> None:
    first, first_creators = views("c1", {"a": "healthy"})
    later = first.updated_at + timedelta(minutes=5)
    second, second_creators = views("c1", {"a": "decaying"}, updated_at=later)
    repository.save([first], first_creators)
    repository.save([second], second_creators)

    assert repository.get_campaign("c1") == second
    assert repository.get_creator("c1", "a") == second_creators[0]
    assert repository.list_campaigns(status="healthy") == ([], 0)
    assert repository.list_campaigns() == ([second], 1)


def test_the_last_of_duplicate_keys_in_one_batch_wins(
    repository: StatusRepository, views: BuildViews
) -> None:
    first, first_creators = views("c1", {"a": "healthy"})
    second, second_creators = views("c1", {"a": "watch"})
    repository.save([first, second], [*first_creators, *second_creators])

    assert repository.get_campaign("c1") == second
    assert repository.list_creators("c1") == second_creators


def test_saving_nothing_is_fine(repository: StatusRepository) -> None:
    repository.save([], [])
    assert repository.list_campaigns() == ([], 0)


def test_thousands_of_creators_in_one_save(repository: StatusRepository, views: BuildViews) -> None:
    campaign, (template,) = views("big", {"creator": "healthy"})
    creators = [template.model_copy(update={"creator_id": f"cr{i:05d}"}) for i in range(3_000)]
    repository.save([campaign], creators)
    repository.save([campaign], creators)

    stored = repository.list_creators("big")
    assert len(stored) == 3_000
    assert stored[0] == creators[0]
    assert stored[-1] == creators[-1]


def _save_campaigns(repository: StatusRepository, views: BuildViews) -> None:
    shapes = {
        "k-healthy": "healthy",
        "a-insufficient": "insufficient_data",
        "z-decaying": "decaying",
        "b-watch": "watch",
        "a-decaying": "decaying",
        "m-healthy": "healthy",
    }
    campaigns = [views(cid, {"creator": shape})[0] for cid, shape in shapes.items()]
    assert [c.status for c in campaigns] == list(shapes.values())
    repository.save(campaigns, [])


def test_campaigns_are_listed_worst_first_then_by_id(
    repository: StatusRepository, views: BuildViews
) -> None:
    _save_campaigns(repository, views)

    items, total = repository.list_campaigns()

    assert [c.campaign_id for c in items] == [
        "a-decaying",
        "z-decaying",
        "b-watch",
        "k-healthy",
        "m-healthy",
        "a-insufficient",
    ]
    assert total == 6


def test_campaigns_filter_by_status(repository: StatusRepository, views: BuildViews) -> None:
    _save_campaigns(repository, views)

    items, total = repository.list_campaigns(status="healthy")

    assert [c.campaign_id for c in items] == ["k-healthy", "m-healthy"]
    assert total == 2
    assert repository.list_campaigns(status="watch")[1] == 1


@pytest.mark.parametrize(
    ("status", "limit", "offset", "expected", "total"),
    [
        (None, 2, 0, ["a-decaying", "z-decaying"], 6),
        (None, 2, 4, ["m-healthy", "a-insufficient"], 6),
        (None, 10, 6, [], 6),
        ("decaying", 1, 1, ["z-decaying"], 2),
        ("healthy", 5, 2, [], 2),
    ],
)
def test_pages_count_every_match(
    repository: StatusRepository,
    views: BuildViews,
    status: str | None,
    limit: int,
    offset: int,
    expected: list[str],
    total: int,
) -> None:
    _save_campaigns(repository, views)

    items, counted = repository.list_campaigns(status=status, limit=limit, offset=offset)

    assert [c.campaign_id for c in items] == expected
    assert counted == total


def test_creators_are_listed_worst_first_then_by_id(
    repository: StatusRepository, views: BuildViews
) -> None:
    shapes = {
        "e": "insufficient_data",
        "d": "healthy",
        "c": "watch",
        "b": "decaying",
        "a": "healthy",
        "f": "decaying",
    }
    campaign, creators = views("c1", shapes)
    _, other = views("c2", {"a": "decaying"})
    repository.save([campaign], [*creators, *other])

    listed = repository.list_creators("c1")

    assert [(c.creator_id, c.status) for c in listed] == [
        ("b", "decaying"),
        ("f", "decaying"),
        ("c", "watch"),
        ("a", "healthy"),
        ("d", "healthy"),
        ("e", "insufficient_data"),
    ]


def test_campaign_currencies(repository: StatusRepository, views: BuildViews) -> None:
    repository.save(
        [
            views("usd", {"a": "healthy"}, currency="USD")[0],
            views("eur", {"a": "healthy"}, currency="EUR")[0],
            views("none", {"a": "healthy"}, currency=None)[0],
        ],
        [],
    )

    assert repository.campaign_currencies(["usd", "eur", "none", "unknown", "usd"]) == {
        "usd": "USD",
        "eur": "EUR",
    }
    assert repository.campaign_currencies([]) == {}
    many = [f"x{i}" for i in range(2_500)] + ["eur"]
    assert repository.campaign_currencies(many) == {"eur": "EUR"}


def test_ping(repository: StatusRepository) -> None:
    repository.ping()


def test_ping_raises_when_the_database_is_unreachable() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/pulse?connect_timeout=2")
    try:
        with pytest.raises(OperationalError):
            StatusRepository(engine).ping()
    finally:
        engine.dispose()


def test_migrate_is_idempotent(database_url: str, views: BuildViews) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        repository = StatusRepository(engine)
        campaign, creators = views("c1", {"a": "healthy"})
        repository.save([campaign], creators)

        migrate(engine)
        migrate(database_url)

        assert _tables(engine) >= {"alembic_version", "campaign_status", "creator_status"}
        with engine.connect() as connection:
            versions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
        assert repository.get_campaign("c1") == campaign
    finally:
        engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_make_engine_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "pulse.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()
    assert path.is_file()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_make_engine_uses_psycopg_3_for_postgresql(scheme: str) -> None:
    engine = make_engine(f"{scheme}://user@db.example:5432/pulse")
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.dialect.driver == "psycopg"


def test_services_migrating_at_once_do_not_collide(database_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=3, mp_context=spawn) as pool:
        for future in [pool.submit(migrate, database_url) for _ in range(3)]:
            future.result()

    engine = make_engine(database_url)
    try:
        assert _tables(engine) >= {"campaign_status", "creator_status"}
    finally:
        engine.dispose()
