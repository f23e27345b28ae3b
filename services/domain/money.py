"""Money is kept in integer micro-units so that sums are exact and order-independent."""

from decimal import Decimal

MICROS_PER_UNIT = 1_000_000


def to_micros(amount: Decimal) -> int:
    return int(amount * MICROS_PER_UNIT)


def from_micros(micros: int) -> float:
    return micros / MICROS_PER_UNIT
