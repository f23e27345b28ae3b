"""Status rounds rebuild changed campaigns, their changed creators, and everyone once an hour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.domain.detection import Assessment, detect
from services.domain.state import CreatorState
from services.monitor import codec, snapshots
from services.monitor.buffer import HeldWrites
from services.monitor.processor import Processor
from services.monitor.snapshots import Changes, Round, StatusRounds
from tests.unit.strategies import CAMPAIGN, LATENESS, RETENTION, T0, spend_raw
from tests.unit.test_processor import KEY, message

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def processor_with(*items: dict[str, object]) -> tuple[Processor, Changes]:
    processor = Processor(
        HeldWrites({}, codec.CAMPAIGNS), HeldWrites({}, codec.CREATORS), LATENESS, RETENTION
    )
    changes = Changes()
    result = processor.process(KEY, message(*items))
    for campaign_id, creator_id in result.touched_creators:
        changes.creators(campaign_id, (creator_id,))
    return processor, changes


def viewed_creators(built: Round) -> set[str]:
    return {view.creator_id for view in built.creators}


def test_only_changed_creators_are_rebuilt_within_the_hour() -> None:
    processor, changes = processor_with(
        *(spend_raw(f"s-{c}", creator_id=c, occurred_at=T0) for c in "abc")
    )
    rounds = StatusRounds(processor)
    first = rounds.build(changes, NOW)
    assert viewed_creators(first) == {"a", "b", "c"}

    result = processor.process(KEY, message(spend_raw("s-b2", creator_id="b", occurred_at=T0 + 60)))
    for campaign_id, creator_id in result.touched_creators:
        changes.creators(campaign_id, (creator_id,))
    built = rounds.build(changes, NOW)
    campaigns, creators = built.campaigns, built.creators
    assert [c.campaign_id for c in campaigns] == [CAMPAIGN]
    assert campaigns[0].totals.spend == 40.0
    assert [c.creator_id for c in creators] == ["b"]


def test_every_creator_is_rebuilt_when_the_hour_moves_on_or_everything_changed() -> None:
    processor, changes = processor_with(
        *(spend_raw(f"s-{c}", creator_id=c, occurred_at=T0) for c in "abc")
    )
    rounds = StatusRounds(processor)
    rounds.build(changes, NOW)

    processor.process(KEY, message(spend_raw("later", creator_id="a", occurred_at=T0 + 3_600)))
    changes.creators(CAMPAIGN, ["a"])
    assert viewed_creators(rounds.build(changes, NOW)) == {
        "a",
        "b",
        "c",
    }

    changes.everything(CAMPAIGN)
    changes.creators(CAMPAIGN, ["a"])
    assert viewed_creators(rounds.build(changes, NOW)) == {
        "a",
        "b",
        "c",
    }


def test_changes_merge_back_after_a_failed_round() -> None:
    changes = Changes()
    changes.creators("x", ["a"])
    campaign_id, changed = changes.pop_oldest()
    taken = Changes({campaign_id: changed})
    assert not changes
    changes.creators("x", ["b"])
    changes.everything("y")
    changes.merge(taken)
    assert changes.campaigns == {"x": {"a", "b"}, "y": None}


def test_a_round_takes_at_most_its_limit_oldest_first() -> None:
    processor, changes = processor_with()
    for campaign_id in "abcde":
        changes.creators(campaign_id, ["x"])
    rounds = StatusRounds(processor, max_campaigns=2)
    assert list(rounds.build(changes, NOW).covered.campaigns) == ["a", "b"]
    assert list(rounds.build(changes, NOW).covered.campaigns) == ["c", "d"]
    assert list(rounds.build(changes, NOW).covered.campaigns) == ["e"]
    assert not changes


def test_a_spent_budget_ends_the_round_after_one_campaign_and_keeps_the_rest() -> None:
    processor, changes = processor_with(spend_raw("s", occurred_at=T0))
    for other in ("later-1", "later-2"):
        changes.everything(other)
    built = StatusRounds(processor, budget_seconds=0.0).build(changes, NOW)
    campaigns, covered = built.campaigns, built.covered
    assert [c.campaign_id for c in campaigns] == [CAMPAIGN]
    assert list(covered.campaigns) == [CAMPAIGN]
    assert list(changes.campaigns) == ["later-1", "later-2"]


def test_changes_put_back_go_ahead_of_newer_ones() -> None:
    changes = Changes()
    changes.creators("new", ["a"])
    changes.creators("both", ["b"])
    waited = Changes()
    waited.creators("old", ["c"])
    waited.creators("both", ["d"])
    changes.merge(waited)
    assert list(changes.campaigns) == ["old", "both", "new"]
    assert changes.campaigns["both"] == {"b", "d"}


@pytest.fixture
def assessed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of creators in each detector call the status rounds make."""
    calls: list[int] = []

    def counting_detect(creators: list[CreatorState], *args: Any) -> Assessment:
        calls.append(len(creators))
        return detect(creators, *args)

    monkeypatch.setattr(snapshots, "detect", counting_detect)
    return calls


def three_creators_viewed_once(assessed: list[int]) -> tuple[Processor, Changes, StatusRounds]:
    """Three creators' first round (each creator and the campaign assessed) under a long reuse."""
    processor, changes = processor_with(
        *(spend_raw(f"s-{c}", creator_id=c, occurred_at=T0) for c in "abc")
    )
    rounds = StatusRounds(processor, reassess_seconds=3600)
    rounds.build(changes, NOW)
    assert sorted(assessed) == [1, 1, 1, 3]
    return processor, changes, rounds


def test_a_campaigns_assessment_is_reused_within_its_block_until_its_config_changes(
    assessed: list[int],
) -> None:
    processor, changes, rounds = three_creators_viewed_once(assessed)

    assessed.clear()
    processor.process(KEY, message(spend_raw("s-b2", creator_id="b", occurred_at=T0 + 60)))
    changes.creators(CAMPAIGN, ["b"])
    rounds.build(changes, NOW)
    assert assessed == [1]

    assessed.clear()
    changes.everything(CAMPAIGN)
    rounds.build(changes, NOW)
    assert sorted(assessed) == [1, 1, 1, 3]


def test_forgotten_campaigns_are_viewed_and_assessed_afresh(assessed: list[int]) -> None:
    _, changes, rounds = three_creators_viewed_once(assessed)
    rounds.forget(lambda campaign_id: campaign_id != CAMPAIGN)

    assessed.clear()
    changes.creators(CAMPAIGN, ["b"])
    built = rounds.build(changes, NOW)
    assert viewed_creators(built) == {"a", "b", "c"}
    assert sorted(assessed) == [1, 1, 1, 3]

    assessed.clear()
    rounds.forget(lambda campaign_id: campaign_id == CAMPAIGN)
    changes.creators(CAMPAIGN, ["b"])
    assert viewed_creators(rounds.build(changes, NOW)) == {"b"}
    assert assessed == [1]
