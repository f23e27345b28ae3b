"""`pulse poll` settings; environment prefix ``PULSE_POLL_``.

A platform is polled when its credential is set: ``PULSE_POLL_INSTAGRAM_TOKEN`` (a Graph API
access token with ``instagram_manage_insights``), ``PULSE_POLL_TIKTOK_TOKEN`` (a user access token
with ``video.list``), ``PULSE_POLL_YOUTUBE_API_KEY`` (a Data API key). Each platform's API root
(``PULSE_POLL_<PLATFORM>_BASE_URL``) defaults to the one its documentation gives (for Instagram
with a Graph API version, which Meta retires about two years after release: keep it current) and
points at a local stand-in in tests. Credentials are ``SecretStr``: they are shown as
``**********`` in any log, repr or error.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.domain.post_refs import PLATFORMS, Platform
from services.poller.schedule import DEFAULT_SCHEDULE, PollSchedule
from services.settings import SharedSettings


@dataclass(frozen=True)
class PlatformAccess:
    platform: Platform
    credential: SecretStr
    base_url: str
    requests_per_minute: float


class PollerSettings(SharedSettings):
    # An error must never echo a credential back (into a log or a terminal).
    model_config = SettingsConfigDict(
        env_prefix="PULSE_POLL_", extra="ignore", hide_input_in_errors=True
    )

    ingest_url: str = "http://127.0.0.1:8001"
    ingest_key: SecretStr | None = Field(
        default=None, description="An API key with events:write; `pulse run` makes one."
    )
    instagram_token: SecretStr | None = None
    instagram_base_url: str = "https://graph.facebook.com/v23.0"
    # Meta's Graph API limits by a rolling hourly budget per app and account; a conservative
    # steady rate keeps clear of it. Set it to the app's own limit.
    instagram_requests_per_minute: float = Field(default=60.0, gt=0)
    tiktok_token: SecretStr | None = None
    tiktok_base_url: str = "https://open.tiktokapis.com"
    tiktok_requests_per_minute: float = Field(default=600.0, gt=0)
    youtube_api_key: SecretStr | None = None
    youtube_base_url: str = "https://www.googleapis.com"
    # The Data API is limited by daily quota units, not per minute (videos.list: 1 unit for up to
    # 50 videos); this only spreads the calls.
    youtube_requests_per_minute: float = Field(default=60.0, gt=0)
    schedule: str = DEFAULT_SCHEDULE
    tick_seconds: float = Field(
        default=5.0, gt=0, description="How often due posts are looked for."
    )
    error_retry_seconds: float = Field(
        default=300.0, gt=0, description="A failed post is tried again this soon (or sooner)."
    )
    posts_per_round: int = Field(default=500, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, description="Tries of one request (5xx, 429).")
    backoff_initial_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)

    @field_validator("schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        PollSchedule.parse(value)
        return value

    @field_validator("instagram_base_url", "tiktok_base_url", "youtube_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL: the API root to poll")
        return value.rstrip("/")

    def _credential(self, platform: Platform) -> SecretStr | None:
        name = "youtube_api_key" if platform == "youtube" else f"{platform}_token"
        credential: SecretStr | None = getattr(self, name)
        return credential if credential is not None and credential.get_secret_value() else None

    @property
    def poll_schedule(self) -> PollSchedule:
        return PollSchedule.parse(self.schedule)

    def platforms(self) -> dict[Platform, PlatformAccess]:
        """The platforms whose credentials are configured, with where and how fast to call."""
        configured: dict[Platform, PlatformAccess] = {}
        for platform in PLATFORMS:
            credential = self._credential(platform)
            if credential is not None:
                configured[platform] = PlatformAccess(
                    platform,
                    credential,
                    getattr(self, f"{platform}_base_url"),
                    getattr(self, f"{platform}_requests_per_minute"),
                )
        return configured
