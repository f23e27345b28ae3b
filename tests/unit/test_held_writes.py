"""Held state: read-your-writes, encoded once per flush, per partition, dropped on revocation."""

from __future__ import annotations

import orjson

from services.domain.state import CampaignState
from services.monitor import codec
from services.monitor.buffer import HeldWrites


def state(watermark: float) -> CampaignState:
    return CampaignState("camp-1", "USD", watermark, ["a"])


def stored(watermark: float) -> bytes:
    return codec.CAMPAIGNS.encode(state(watermark))


def test_held_values_are_read_back_before_they_reach_the_table() -> None:
    table = {"a": stored(1.0)}
    held = HeldWrites(table, codec.CAMPAIGNS)
    held.partition = 1
    held["a"] = state(2.0)
    held["b"] = state(3.0)

    assert held["a"] == state(2.0) and held.get("b") == state(3.0) and held.get("c") is None
    assert table == {"a": stored(1.0)}
    assert sorted(held) == ["a", "b"] and len(held) == 2


def test_a_flush_encodes_and_writes_only_its_partitions_keys_once() -> None:
    writes: list[str] = []

    class Table(dict[str, bytes]):
        def __setitem__(self, key: str, value: bytes) -> None:
            writes.append(key)
            super().__setitem__(key, value)

    table = Table()
    held = HeldWrites(table, codec.CAMPAIGNS)
    held.partition = 0
    for version in range(5):
        held["x"] = state(float(version))
    held.partition = 3
    held["y"] = state(9.0)

    held.flush(0)
    assert writes == ["x"]
    assert table == {"x": stored(4.0)}
    assert held["y"] == state(9.0)


def test_a_revoked_partitions_held_writes_are_forgotten() -> None:
    table = {"x": stored(1.0)}
    held = HeldWrites(table, codec.CAMPAIGNS)
    held.partition = 2
    held["x"] = state(2.0)

    held.drop(2)
    held.flush(2)
    assert held["x"] == state(1.0)
    assert table == {"x": stored(1.0)}


def test_decoded_states_are_reused_up_to_the_bound_and_dropped_on_revocation() -> None:
    table = {key: stored(float(n)) for n, key in enumerate("abc")}
    held = HeldWrites(table, codec.CAMPAIGNS, decoded_size=2)

    first = held["a"]
    assert held["a"] is first
    _ = held["b"], held["c"]
    assert held["a"] is not first and held["a"] == first

    recovered = held["c"]
    table["c"] = stored(7.0)
    held.drop(1)
    assert held["c"] is not recovered and held["c"] == state(7.0)


def test_plain_json_written_before_compression_is_still_read() -> None:
    table = {"x": orjson.dumps(state(5.0).to_dict())}
    assert HeldWrites(table, codec.CAMPAIGNS)["x"] == state(5.0)
    assert len(stored(5.0)) < len(table["x"]) + 16
