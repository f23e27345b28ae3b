"""The monitor's service layer: one Kafka message in, state updated, dead letters out.

It knows nothing of Faust: state is read from and written to two key-value mappings of decoded
state (``HeldWrites`` over Faust tables in production), each changed key written once per message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from services.domain.compiled_events import StreamEvent, decode_valid_message
from services.domain.events import EVENT_TYPES, parse_event
from services.domain.state import CampaignState, CreatorState, Outcome, apply_event
from services.domain.suspicion import DEFAULT_SUSPICION, SuspicionSettings
from services.runtime.topics import campaign_partition

KEY_SEPARATOR = "\x1f"


def creator_key(campaign_id: str, creator_id: str) -> str:
    return f"{campaign_id}{KEY_SEPARATOR}{creator_id}"


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    field: str
    event: Any
    campaign_id: str | None = None

    def to_json(self, source: dict[str, Any]) -> bytes:
        return orjson.dumps(
            {"reason": self.reason, "field": self.field, "event": self.event, "source": source}
        )


@dataclass(frozen=True, slots=True)
class Placement:
    """The partition a message was read from, of how many the topic has."""

    partition: int
    partitions: int


@dataclass
class BatchResult:
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # (campaign_id, creator_id) of every creator an applied event changed.
    touched_creators: set[tuple[str, str]] = field(default_factory=set)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    # The latest event time among the applied events' campaigns (their watermarks).
    newest_event_time: float | None = None

    @property
    def touched_campaigns(self) -> set[str]:
        return {campaign_id for campaign_id, _ in self.touched_creators}


def decode_items(value: bytes | None) -> list[Any] | DeadLetter:
    """A message holds one event (a JSON object) or a batch of them (a JSON array)."""
    if value is None:
        return DeadLetter("empty message", "(message)", None)
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return DeadLetter(f"invalid JSON: {exc}", "(message)", value.decode(errors="replace"))
    return decoded if isinstance(decoded, list) else [decoded]


class Processor:
    def __init__(
        self,
        campaigns: MutableMapping[str, CampaignState],
        creators: MutableMapping[str, CreatorState],
        allowed_lateness: float,
        retention: float,
        suspicion: SuspicionSettings = DEFAULT_SUSPICION,
    ) -> None:
        self.campaigns = campaigns
        self.creators = creators
        self.allowed_lateness = allowed_lateness
        self.retention = retention
        self.suspicion = suspicion

    def load_campaign(self, campaign_id: str) -> CampaignState | None:
        return self.campaigns.get(campaign_id)

    def load_creator(self, campaign_id: str, creator_id: str) -> CreatorState | None:
        return self.creators.get(creator_key(campaign_id, creator_id))

    def load_campaign_creators(self, campaign: CampaignState) -> list[CreatorState]:
        found = (self.load_creator(campaign.campaign_id, c) for c in campaign.creator_ids)
        return [c for c in found if c is not None]

    def process(
        self,
        key: bytes | None,
        value: bytes | None,
        received_at: float = 0.0,
        placement: Placement | None = None,
    ) -> BatchResult:
        """Apply one message; ``received_at`` is its Kafka timestamp (when ingest produced it),
        kept per creator for the views' freshness (0: unknown); ``placement`` is where it was
        read, which a message without a key needs (its campaigns must belong there)."""
        result = BatchResult()
        message = _Message(value)
        compiled = decode_valid_message(value) if value is not None else None
        if compiled is not None:
            events: list[tuple[int, StreamEvent]] = list(enumerate(compiled))
        else:
            items = message.items()
            if isinstance(items, DeadLetter):
                result.dead_letters.append(items)
                return result
            events = self._validated(items, result)
        message_key = key.decode(errors="replace") if key is not None else None
        # A campaign's events in message order; its state is looked up once per message.
        groups: dict[str, _Group] = {}
        for index, event in events:
            group = groups.get(event.campaign_id)
            if group is None:
                group = groups[event.campaign_id] = _Group(
                    _misrouted(message_key, event.campaign_id, placement)
                )
            if group.refusal is None:
                group.events.append((index, event))
                continue
            reason, refused_field = group.refusal
            result.dead_letters.append(
                DeadLetter(reason, refused_field, message.item(index), event.campaign_id)
            )
            result.outcomes[(event.type, "invalid")] += 1
        for campaign_id, group in groups.items():
            if group.events:
                self._apply_campaign(campaign_id, group.events, message, received_at, result)
        return result

    def _apply_campaign(
        self,
        campaign_id: str,
        events: list[tuple[int, StreamEvent]],
        message: _Message,
        received_at: float,
        result: BatchResult,
    ) -> None:
        """Apply one campaign's events of a message in order, each creator looked up once."""
        campaign = self.load_campaign(campaign_id) or CampaignState(campaign_id)
        creators: dict[str, CreatorState] = {}
        touched: set[str] = set()
        outcomes = result.outcomes
        for index, event in events:
            creator = creators.get(event.creator_id)
            if creator is None:
                creator = self.load_creator(campaign_id, event.creator_id) or CreatorState(
                    campaign_id, event.creator_id
                )
                creators[event.creator_id] = creator
            applied = apply_event(
                campaign, creator, event, self.allowed_lateness, self.retention, self.suspicion
            )
            outcomes[(event.type, applied.outcome.value)] += 1
            if applied.outcome is Outcome.APPLIED:
                touched.add(event.creator_id)
                if event.type == "post_metrics" and received_at > creator.received_at:
                    creator.received_at = received_at
            elif applied.outcome is Outcome.REJECTED:
                result.dead_letters.append(
                    DeadLetter(applied.reason, applied.field, message.item(index), campaign_id)
                )
        if not touched:
            return
        for creator_id in touched:
            self.creators[creator_key(campaign_id, creator_id)] = creators[creator_id]
            result.touched_creators.add((campaign_id, creator_id))
        self.campaigns[campaign_id] = campaign
        if campaign.watermark is not None and (
            result.newest_event_time is None or campaign.watermark > result.newest_event_time
        ):
            result.newest_event_time = campaign.watermark

    def _validated(self, items: list[Any], result: BatchResult) -> list[tuple[int, StreamEvent]]:
        """The contract's path: each item validated by itself, the invalid ones dead-lettered with
        the contract's field and reason."""
        events: list[tuple[int, StreamEvent]] = []
        for index, item in enumerate(items):
            event = parse_event(item, index)
            if isinstance(event, list):
                first = event[0]
                result.dead_letters.append(DeadLetter(first.reason, first.field, item))
                result.outcomes[(_type_of(item), "invalid")] += 1
            else:
                events.append((index, event))
        return events


@dataclass(slots=True)
class _Group:
    # (reason, field) when the campaign's events do not belong in this message.
    refusal: tuple[str, str] | None
    events: list[tuple[int, StreamEvent]] = field(default_factory=list)


def _misrouted(
    message_key: str | None, campaign_id: str, placement: Placement | None
) -> tuple[str, str] | None:
    """Why a campaign's events may not be applied from this message, if they may not: a keyed
    message holds its key's campaign only; a message without a key (packed by partition) holds
    campaigns whose id hashes to the partition it was read from."""
    if message_key is not None or placement is None:
        if message_key == campaign_id:
            return None
        return (
            f"message key {message_key!r} is not the event's campaign_id: "
            "key every message by campaign_id",
            "(message key)",
        )
    home = campaign_partition(campaign_id, placement.partitions)
    if home == placement.partition:
        return None
    return (
        f"campaign {campaign_id!r} belongs on partition {home} of {placement.partitions}, "
        f"not {placement.partition}: a message without a key may only hold campaigns whose id "
        "hashes to the partition it is sent to",
        "(message partition)",
    )


class _Message:
    """A message's raw items, decoded only when a dead letter needs one: the compiled path never
    builds them."""

    def __init__(self, value: bytes | None) -> None:
        self.value = value
        self._items: list[Any] | DeadLetter | None = None

    def items(self) -> list[Any] | DeadLetter:
        if self._items is None:
            self._items = decode_items(self.value)
        return self._items

    def item(self, index: int) -> Any:
        items = self.items()
        return None if isinstance(items, DeadLetter) else items[index]


def _type_of(item: Any) -> str:
    kind = item.get("type") if isinstance(item, dict) else None
    return kind if kind in EVENT_TYPES else "unknown"
