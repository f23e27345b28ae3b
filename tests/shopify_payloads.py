"""Shopify webhook bodies in the REST shapes Shopify documents for ``orders/create``,
``orders/cancelled`` and ``refunds/create`` (order and refund resources of the Admin REST API),
trimmed to a realistic order; shared by the unit, integration and e2e tests."""

from __future__ import annotations

from typing import Any

SHOP = "pulse-demo.myshopify.com"
ORDER_ID = 5_678_901_234_567
CUSTOMER_ID = 7_001_002_003_004


def order(
    order_id: int = ORDER_ID,
    codes: tuple[str, ...] = ("ana10",),
    customer_id: int | None = CUSTOMER_ID,
    total_price: Any = "89.90",
    created_at: str = "2026-11-30T10:15:00-05:00",
    **changes: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": "#1042",
        "created_at": created_at,
        "updated_at": created_at,
        "currency": "USD",
        "presentment_currency": "USD",
        "total_price": total_price,
        "current_total_price": total_price,
        "subtotal_price": "80.00",
        "total_discounts": "8.00",
        "total_tax": "7.90",
        "financial_status": "paid",
        "cancelled_at": None,
        "cancel_reason": None,
        "discount_codes": [
            {"code": code, "amount": "8.00", "type": "fixed_amount"} for code in codes
        ],
        "discount_applications": [
            {
                "type": "discount_code",
                "value": "8.0",
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "target_type": "line_item",
                "code": code,
            }
            for code in codes
        ],
        "landing_site": "/?utm_source=instagram&utm_campaign=spring",
        "referring_site": "https://l.instagram.com/",
        "source_name": "web",
        "customer": None
        if customer_id is None
        else {"id": customer_id, "email": "sam@example.com", "state": "enabled"},
        "line_items": [
            {
                "id": 13_100_200_300,
                "title": "Trail runner",
                "quantity": 1,
                "price": "88.00",
                "sku": "TR-42",
            }
        ],
    }
    return body | changes


def cancelled(order_id: int = ORDER_ID, **changes: Any) -> dict[str, Any]:
    return order(
        order_id,
        cancelled_at="2026-12-01T09:00:00-05:00",
        cancel_reason="customer",
        financial_status="refunded",
        **changes,
    )


def refund(
    refund_id: int,
    amounts: tuple[str, ...],
    order_id: int = ORDER_ID,
    status: str = "success",
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": "2026-12-01T08:00:00-05:00",
        "processed_at": "2026-12-01T08:00:00-05:00",
        "note": "wrong size",
        "restock": True,
        "refund_line_items": [
            {
                "id": 61_000_000 + refund_id,
                "line_item_id": 13_100_200_300,
                "quantity": 1,
                "restock_type": "return",
                "subtotal": 80.0,
                "total_tax": 6.4,
            }
        ],
        "transactions": [
            {
                "id": 90_000_000 + refund_id * 10 + index,
                "order_id": order_id,
                "kind": "refund",
                "gateway": "shopify_payments",
                "status": status,
                "amount": amount,
                "currency": currency,
                "parent_id": 80_000_001,
            }
            for index, amount in enumerate(amounts)
        ],
        "order_adjustments": [],
    }
