"""Everything a route asks for: the repositories and publisher the app built at start-up, and who
the caller is (``services.runtime.security``). Routes name these, never ``app.state``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from services.api.config_publisher import ConfigPublisher
from services.api.settings import ApiSettings
from services.runtime.security import (
    Admin,
    AlertsReader,
    AlertsWriter,
    CampaignsReader,
    CampaignsWriter,
    KeysAdmin,
    WebhooksReader,
    WebhooksWriter,
)
from services.service_layer.access import Authenticator
from services.service_layer.reports import ReviewSources
from services.storage.alerts import AlertRepository
from services.storage.keys import AuditLog, KeyRepository
from services.storage.posts import WatchedPostRepository
from services.storage.repository import StatusRepository
from services.storage.shopify import ShopifyRepository
from services.storage.webhooks import CampaignConfigRepository, WebhookRepository

T = TypeVar("T")

__all__ = [
    "Admin",
    "Alerts",
    "AlertsReader",
    "AlertsWriter",
    "Audit",
    "CampaignsReader",
    "CampaignsWriter",
    "Configs",
    "Keys",
    "KeysAdmin",
    "Publisher",
    "Reviews",
    "Settings",
    "Shopify",
    "Statuses",
    "WatchedPosts",
    "Webhooks",
    "WebhooksReader",
    "WebhooksWriter",
]


def _from_state(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency handing out what the app built at start-up as ``app.state.<name>``."""

    # Async so that FastAPI calls it on the event loop instead of sending it to a worker thread.
    async def get(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    return get


Statuses = Annotated[StatusRepository, Depends(_from_state("repository", StatusRepository))]
Alerts = Annotated[AlertRepository, Depends(_from_state("alerts", AlertRepository))]
Webhooks = Annotated[WebhookRepository, Depends(_from_state("webhooks", WebhookRepository))]
Configs = Annotated[
    CampaignConfigRepository, Depends(_from_state("campaign_configs", CampaignConfigRepository))
]
WatchedPosts = Annotated[
    WatchedPostRepository, Depends(_from_state("watched_posts", WatchedPostRepository))
]
Publisher = Annotated[ConfigPublisher, Depends(_from_state("config_publisher", ConfigPublisher))]
Shopify = Annotated[ShopifyRepository, Depends(_from_state("shopify", ShopifyRepository))]
Keys = Annotated[KeyRepository, Depends(_from_state("keys", KeyRepository))]
Audit = Annotated[AuditLog, Depends(_from_state("audit", AuditLog))]
AuthenticatorDep = Annotated[Authenticator, Depends(_from_state("authenticator", Authenticator))]
Reviews = Annotated[ReviewSources, Depends(_from_state("reviews", ReviewSources))]
Settings = Annotated[ApiSettings, Depends(_from_state("settings", ApiSettings))]
