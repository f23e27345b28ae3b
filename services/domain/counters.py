"""Additive counters: what a time bucket, a creator or a campaign accumulates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Counters:
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0
    spend_micros: int = 0
    conversions: int = 0
    new_customers: int = 0
    revenue_micros: int = 0

    @property
    def engagements(self) -> int:
        return self.likes + self.comments + self.shares + self.saves

    def add(self, other: Counters) -> None:
        self.views += other.views
        self.likes += other.likes
        self.comments += other.comments
        self.shares += other.shares
        self.saves += other.saves
        self.clicks += other.clicks
        self.spend_micros += other.spend_micros
        self.conversions += other.conversions
        self.new_customers += other.new_customers
        self.revenue_micros += other.revenue_micros

    def to_list(self) -> list[int]:
        return [
            self.views,
            self.likes,
            self.comments,
            self.shares,
            self.saves,
            self.clicks,
            self.spend_micros,
            self.conversions,
            self.new_customers,
            self.revenue_micros,
        ]

    @classmethod
    def from_list(cls, values: list[int]) -> Counters:
        return cls(*values)
