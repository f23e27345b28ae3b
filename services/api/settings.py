from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.settings import SharedSettings


class ApiSettings(SharedSettings):
    """API settings; environment variables ``PULSE_API_HOST`` and ``PULSE_API_PORT``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
