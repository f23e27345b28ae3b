"""How domain state is stored in the monitor's tables and their changelogs.

JSON compressed with zlib: a creator's week of counters is repetitive JSON, and compressed it is a
quarter of the size, which is most of a worker's memory and of its changelog traffic. Level 1 is
nearly as small as the default and several times faster. Values written before compression (plain
JSON, which always starts with ``{``) are still read.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import orjson

from services.domain.state import CampaignState, CreatorState

COMPRESSION_LEVEL = 1


class Stored(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=Stored)


@dataclass(frozen=True, slots=True)
class Codec(Generic[S]):
    from_dict: Callable[[dict[str, Any]], S]

    def encode(self, state: S) -> bytes:
        return zlib.compress(orjson.dumps(state.to_dict()), COMPRESSION_LEVEL)

    def decode(self, raw: bytes) -> S:
        return self.from_dict(orjson.loads(raw if raw[:1] == b"{" else zlib.decompress(raw)))


CAMPAIGNS: Codec[CampaignState] = Codec(CampaignState.from_dict)
CREATORS: Codec[CreatorState] = Codec(CreatorState.from_dict)
