"""Promo codes of a shop's campaigns: ``(shop_domain, code)`` is the key, so a code belongs to
one campaign of a shop. Written with the campaign's configuration, in its transaction (see
``CampaignConfigRepository``); read by ingest to attribute orders (``ShopifyRepository``)."""

from __future__ import annotations

from sqlalchemy import Connection, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base


class PromoCodeRow(Base):
    __tablename__ = "shopify_promo_codes"

    shop_domain: Mapped[str] = mapped_column(String(77), primary_key=True)
    code: Mapped[str] = mapped_column(String(255), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128), index=True)
    creator_id: Mapped[str] = mapped_column(String(128))


class PromoCodeTaken(Exception):
    """Codes another campaign of the same shop holds: ``taken`` maps each to that campaign."""

    def __init__(self, shop: str, taken: dict[str, str]) -> None:
        described = ", ".join(f"'{code}' (campaign '{who}')" for code, who in sorted(taken.items()))
        super().__init__(f"already mapped in shop {shop} by another campaign: {described}")
        self.taken = taken


def promo_code_conflicts(
    connection: Connection, shop: str, codes: list[str], campaign_id: str
) -> dict[str, str]:
    """Each given code another campaign of the shop already holds, with that campaign."""
    if not codes:
        return {}
    query = select(PromoCodeRow.code, PromoCodeRow.campaign_id).where(
        PromoCodeRow.shop_domain == shop,
        PromoCodeRow.code.in_(codes),
        PromoCodeRow.campaign_id != campaign_id,
    )
    return {code: holder for code, holder in connection.execute(query)}


def replace_promo_codes(
    connection: Connection, campaign_id: str, shop: str | None, codes: dict[str, str]
) -> None:
    connection.execute(delete(PromoCodeRow).where(PromoCodeRow.campaign_id == campaign_id))
    if shop is not None and codes:
        connection.execute(
            insert(PromoCodeRow),
            [
                {"shop_domain": shop, "code": c, "campaign_id": campaign_id, "creator_id": who}
                for c, who in codes.items()
            ],
        )


def promo_codes_of(connection: Connection, campaign_id: str) -> dict[str, str]:
    query = select(PromoCodeRow.code, PromoCodeRow.creator_id).where(
        PromoCodeRow.campaign_id == campaign_id
    )
    return dict(connection.execute(query).tuples().all())
