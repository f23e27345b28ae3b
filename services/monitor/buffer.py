"""Decoded state held between table writes, flushed per partition.

A Faust table sends one changelog record for every assignment, and that record, not the state
update, is what limits a worker (DESIGN.md: ~1.7k table updates per second). A busy creator may
change in every message; held here, it is encoded and written once per flush instead. Recently
used states also stay decoded (a bounded, least-recently-used set), so a busy campaign is not
decoded again for every message and every status round.

Correctness rests on acknowledgements, not on the flush: the agent acknowledges a message only
once the writes it caused have been flushed, so after a crash or a rebalance every message whose
writes were still held is delivered again and applied again, which the idempotent state makes
harmless. Held writes of a partition are flushed while processing a message of that partition,
because Faust sends a table's changelog record to the partition of the message being processed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Generic, TypeVar

from services.monitor.codec import Codec, Stored

S = TypeVar("S", bound=Stored)


class HeldWrites(MutableMapping[str, S], Generic[S]):
    def __init__(
        self, table: MutableMapping[str, bytes], codec: Codec[S], decoded_size: int = 2048
    ) -> None:
        self.table = table
        self.codec = codec
        self.decoded_size = decoded_size
        self.partition = 0
        self._held: dict[str, S] = {}
        self._dirty: dict[int, set[str]] = {}
        self._decoded: OrderedDict[str, S] = OrderedDict()

    def __getitem__(self, key: str) -> S:
        held = self._held.get(key)
        if held is not None:
            return held
        decoded = self._decoded.get(key)
        if decoded is not None:
            self._decoded.move_to_end(key)
            return decoded
        decoded = self.codec.decode(self.table[key])
        self._remember(key, decoded)
        return decoded

    def __setitem__(self, key: str, value: S) -> None:
        self._decoded.pop(key, None)
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
        """Write the partition's held states to the table; call while processing its message."""
        for key in self._dirty.pop(partition, ()):
            state = self._held.pop(key)
            self.table[key] = self.codec.encode(state)
            self._remember(key, state)

    def drop(self, partition: int) -> None:
        """Forget a revoked partition's held states (its unacknowledged messages come again) and
        every decoded one (the table is recovered from the changelog when partitions return)."""
        for key in self._dirty.pop(partition, ()):
            del self._held[key]
        self._decoded.clear()

    def _remember(self, key: str, state: S) -> None:
        self._decoded[key] = state
        if len(self._decoded) > self.decoded_size:
            self._decoded.popitem(last=False)
