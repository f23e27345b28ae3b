"""Data sources a campaign team connects: a Shopify shop's webhook secret.

The secret is write-only: stored to verify the shop's webhook signatures, never answered back; the
shop's GET says that one is set and since when, and how many of its orders arrived, attributed or
not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.api.deps import Audit, CampaignsReader, CampaignsWriter, Shopify
from services.domain.shopify import SHOP_DOMAIN_PATTERN
from services.storage.shopify import ShopSource

ShopDomainPath = Annotated[
    str,
    Path(
        max_length=77,
        pattern=SHOP_DOMAIN_PATTERN,
        description="The shop's `name.myshopify.com` domain, in lower case.",
    ),
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "no secret was ever set for the shop"}
}

router = APIRouter(tags=["sources"])


class ShopifySecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(
        min_length=16,
        max_length=256,
        pattern=r"^\S+$",
        description="The webhook signing secret Shopify shows for the app or the shop's "
        "notifications settings. Write-only: never returned.",
    )


class ShopifySourceOut(BaseModel):
    shop_domain: str
    secret_set: bool = Field(description="Always true: a shop is known once its secret is set.")
    secret_updated_at: datetime
    orders_seen: int = Field(description="Orders received from the shop (orders/create).")
    unattributed_orders: int = Field(
        description="Orders whose discount codes name no mapped promo code: counted, not dropped."
    )


def _out(source: ShopSource) -> ShopifySourceOut:
    return ShopifySourceOut(
        shop_domain=source.shop_domain,
        secret_set=True,
        secret_updated_at=source.secret_updated_at,
        orders_seen=source.orders_seen,
        unattributed_orders=source.unattributed_orders,
    )


@router.put("/v1/sources/shopify/{shop_domain}", response_model=ShopifySourceOut)
async def put_shopify_source(
    shop_domain: ShopDomainPath,
    body: ShopifySecret,
    principal: CampaignsWriter,
    shopify: Shopify,
    audit: Audit,
) -> ShopifySourceOut:
    """Set (or replace) the secret the shop's webhooks are signed with."""
    await run_in_threadpool(shopify.set_secret, shop_domain, body.secret, datetime.now(UTC))
    await run_in_threadpool(
        audit.record, principal.name, principal.key_id, "source.shopify.secret", shop_domain
    )
    source = await run_in_threadpool(shopify.source, shop_domain)
    assert source is not None
    return _out(source)


@router.get(
    "/v1/sources/shopify/{shop_domain}", response_model=ShopifySourceOut, responses=_NOT_FOUND
)
async def get_shopify_source(
    shop_domain: ShopDomainPath, _: CampaignsReader, shopify: Shopify
) -> ShopifySourceOut:
    """Whether the shop's secret is set, since when, and the orders seen (and unattributed)."""
    source = await run_in_threadpool(shopify.source, shop_domain)
    if source is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"shop {shop_domain} has no secret: PUT /v1/sources/shopify/{shop_domain} first",
        )
    return _out(source)
