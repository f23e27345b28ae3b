"""``budget.moves`` events in the outbox the notifier delivers (``alert_events``, kind
``budget.moves``), and the moves last emitted per campaign (``budget_moves_sent``).

An event is appended only when a campaign's moves differ from the ones last emitted for it, and
at most once per ``min_interval``; the check and the append are one transaction under the
outbox's writer lock, so two watchers cannot both emit. Each webhook's cursor then delivers the
row once, like an alert's change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Engine, Integer, String, Text, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.allocation import Recommendation
from services.storage.alerts import AlertEventRow, outbox_writer
from services.storage.models import Base, stored_time

BUDGET_MOVES = "budget.moves"


class BudgetMovesSentRow(Base):
    __tablename__ = "budget_moves_sent"

    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    signature: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    sent_at: Mapped[datetime]


def moves_signature(recommendation: Recommendation) -> str:
    """Which creators give to which: amounts drift with every new hour of data, the pairs do
    not, so a change of pairs is a change of moves."""
    pairs = sorted(
        f"{m.from_creator_id or ''}>{m.to_creator_id or ''}" for m in recommendation.moves
    )
    return ",".join(pairs)


class BudgetMovesOutbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append_if_changed(
        self, recommendation: Recommendation, now: datetime, min_interval: timedelta
    ) -> int | None:
        """The outbox id of the appended event; None when the moves are the ones last emitted,
        the last emission is more recent than ``min_interval``, or there never were moves."""
        signature = moves_signature(recommendation)
        campaign_id = recommendation.campaign_id
        with outbox_writer(self._engine) as connection:
            last = connection.execute(
                select(BudgetMovesSentRow.signature, BudgetMovesSentRow.sent_at).where(
                    BudgetMovesSentRow.campaign_id == campaign_id
                )
            ).first()
            if last is None and not signature:
                return None
            if last is not None and (
                last.signature == signature or now - stored_time(last.sent_at) < min_interval
            ):
                return None
            event_id: int = connection.execute(
                insert(AlertEventRow)
                .values(
                    alert_id=BUDGET_MOVES,
                    revision=0,
                    state=BUDGET_MOVES,
                    kind=BUDGET_MOVES,
                    body=recommendation.model_dump(mode="json"),
                    created_at=now,
                )
                .returning(AlertEventRow.id)
            ).scalar_one()
            connection.execute(
                delete(BudgetMovesSentRow).where(BudgetMovesSentRow.campaign_id == campaign_id)
            )
            connection.execute(
                insert(BudgetMovesSentRow).values(
                    campaign_id=campaign_id, signature=signature, event_id=event_id, sent_at=now
                )
            )
        return event_id
