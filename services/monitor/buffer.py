"""Table writes held back per partition and flushed together.

A Faust table sends one changelog record for every assignment, and that record, not the state
update, is what limits a worker (DESIGN.md: ~1.7k table updates per second). A busy creator may
change in every message; held here, it is written once per flush instead.

Correctness rests on acknowledgements, not on the flush: the agent acknowledges a message only
once the writes it caused have been flushed, so after a crash or a rebalance every message whose
writes were still held is delivered again and applied again, which the idempotent state makes
harmless. Held writes of a partition are flushed while processing a message of that partition,
because Faust sends a table's changelog record to the partition of the message being processed.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping


class HeldWrites(MutableMapping[str, bytes]):
    def __init__(self, table: MutableMapping[str, bytes]) -> None:
        self.table = table
        self.partition = 0
        self._held: dict[str, bytes] = {}
        self._dirty: dict[int, set[str]] = {}

    def __getitem__(self, key: str) -> bytes:
        held = self._held.get(key)
        return held if held is not None else self.table[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._held[key] = value
        self._dirty.setdefault(self.partition, set()).add(key)

    def __delitem__(self, key: str) -> None:
        raise TypeError("state is never deleted")

    def __iter__(self) -> Iterator[str]:
        yield from self._held
        yield from (key for key in self.table if key not in self._held)

    def __len__(self) -> int:
        return len(self._held) + sum(1 for key in self.table if key not in self._held)

    def flush(self, partition: int) -> None:
        """Write the partition's held values to the table; call while processing its message."""
        for key in self._dirty.pop(partition, ()):
            self.table[key] = self._held.pop(key)

    def drop(self, partition: int) -> None:
        """Forget a revoked partition's held values: its unacknowledged messages come again."""
        for key in self._dirty.pop(partition, ()):
            del self._held[key]
