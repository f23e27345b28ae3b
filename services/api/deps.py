"""Everything a route asks for: the repositories and publisher the app built at start-up, and who
the caller is (``services.runtime.security``). Routes name these, never ``app.state``."""

from __future__ import annotations

from typing import Annotated

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
from services.storage.alerts import AlertRepository
from services.storage.keys import AuditLog, KeyRepository
from services.storage.repository import StatusRepository
from services.storage.webhooks import CampaignConfigRepository, WebhookRepository

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
    "Settings",
    "Statuses",
    "Webhooks",
    "WebhooksReader",
    "WebhooksWriter",
]


# Async so that FastAPI calls these on the event loop instead of sending them to a worker thread.
async def _statuses(request: Request) -> StatusRepository:
    repository: StatusRepository = request.app.state.repository
    return repository


async def _alerts(request: Request) -> AlertRepository:
    repository: AlertRepository = request.app.state.alerts
    return repository


async def _webhooks(request: Request) -> WebhookRepository:
    repository: WebhookRepository = request.app.state.webhooks
    return repository


async def _configs(request: Request) -> CampaignConfigRepository:
    repository: CampaignConfigRepository = request.app.state.campaign_configs
    return repository


async def _publisher(request: Request) -> ConfigPublisher:
    publisher: ConfigPublisher = request.app.state.config_publisher
    return publisher


async def _keys(request: Request) -> KeyRepository:
    repository: KeyRepository = request.app.state.keys
    return repository


async def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


async def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


Statuses = Annotated[StatusRepository, Depends(_statuses)]
Alerts = Annotated[AlertRepository, Depends(_alerts)]
Webhooks = Annotated[WebhookRepository, Depends(_webhooks)]
Configs = Annotated[CampaignConfigRepository, Depends(_configs)]
Publisher = Annotated[ConfigPublisher, Depends(_publisher)]
Keys = Annotated[KeyRepository, Depends(_keys)]
Audit = Annotated[AuditLog, Depends(_audit)]
AuthenticatorDep = Annotated[Authenticator, Depends(_authenticator)]
Settings = Annotated[ApiSettings, Depends(_settings)]
