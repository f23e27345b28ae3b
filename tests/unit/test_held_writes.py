"""Held table writes: read-your-writes, flushed per partition, dropped on revocation."""

from __future__ import annotations

from services.monitor.buffer import HeldWrites


def test_held_values_are_read_back_before_they_reach_the_table() -> None:
    table: dict[str, bytes] = {"a": b"old"}
    held = HeldWrites(table)
    held.partition = 1
    held["a"] = b"new"
    held["b"] = b"fresh"

    assert (held["a"], held.get("b"), held.get("c")) == (b"new", b"fresh", None)
    assert table == {"a": b"old"}
    assert sorted(held) == ["a", "b"] and len(held) == 2


def test_a_flush_writes_only_its_partitions_keys_once() -> None:
    writes: list[str] = []

    class Table(dict[str, bytes]):
        def __setitem__(self, key: str, value: bytes) -> None:
            writes.append(key)
            super().__setitem__(key, value)

    table = Table()
    held = HeldWrites(table)
    held.partition = 0
    for version in range(5):
        held["x"] = f"v{version}".encode()
    held.partition = 3
    held["y"] = b"other partition"

    held.flush(0)
    assert writes == ["x"]
    assert table == {"x": b"v4"}
    assert held["y"] == b"other partition"


def test_a_revoked_partitions_held_writes_are_forgotten() -> None:
    table: dict[str, bytes] = {"x": b"committed"}
    held = HeldWrites(table)
    held.partition = 2
    held["x"] = b"held"

    held.drop(2)
    held.flush(2)
    assert held["x"] == b"committed"
    assert table == {"x": b"committed"}
