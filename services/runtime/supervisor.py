"""`pulse run`: the whole system on one machine — embedded broker, SQLite, ingest, monitor, API and
the simulator — each service in its own process; Ctrl-C or SIGTERM stops all of them."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.domain.keys import Scope
from services.poller.settings import PollerSettings
from services.runtime.admin_key import ADMIN_KEY_FILE, issue_service_key, provision_admin_key
from services.runtime.broker import EmbeddedBroker
from services.runtime.stack import Stack, StackConfig


class StackSettings(BaseSettings):
    """What `pulse run` starts where. Unset broker/database means the embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore")

    run_dir: Path = Path(".run")
    broker_port: int = 9092
    ingest_port: int = Field(default=8001, validation_alias=AliasChoices("PULSE_INGEST_PORT"))
    api_port: int = Field(default=8000, validation_alias=AliasChoices("PULSE_API_PORT"))
    monitor_metrics_port: int = Field(
        default=8002, validation_alias=AliasChoices("PULSE_MONITOR_METRICS_PORT")
    )
    notifier_metrics_port: int = Field(
        default=8003, validation_alias=AliasChoices("PULSE_NOTIFIER_METRICS_PORT")
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))


LOCAL_RECEIVERS = "127.0.0.0/8"


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_stack(simulate: bool) -> int:
    settings = StackSettings()
    run_dir = settings.run_dir
    broker: EmbeddedBroker | None = None
    stack: Stack | None = None
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        if settings.kafka_bootstrap_servers is None:
            # The embedded broker keeps nothing across restarts, so neither may the state
            # derived from it.
            shutil.rmtree(run_dir, ignore_errors=True)
            broker = EmbeddedBroker(settings.broker_port).start()
            bootstrap = broker.bootstrap_servers
        else:
            bootstrap = settings.kafka_bootstrap_servers
        # The database and the admin key live here: keep them to their owner.
        run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        run_dir.chmod(0o700)
        config = StackConfig(
            bootstrap_servers=bootstrap,
            database_url=settings.database_url or f"sqlite:///{run_dir.resolve()}/pulse.db",
            run_dir=run_dir,
            ingest_port=settings.ingest_port,
            api_port=settings.api_port,
            monitor_metrics_port=settings.monitor_metrics_port,
            notifier_metrics_port=settings.notifier_metrics_port,
            # Webhook receivers on this machine, for trying the notifier out; off by default.
            extra_env={"PULSE_WEBHOOK_ALLOW_CIDRS": LOCAL_RECEIVERS},
        )
        stack = Stack(config)
        stack.start()
        admin_key_path = run_dir / ADMIN_KEY_FILE
        provision_admin_key(config.database_url, admin_key_path)
        if simulate:
            truth = run_dir / "ground_truth.json"
            simulator_key = issue_service_key(
                config.database_url, "simulator", frozenset({Scope.EVENTS_WRITE})
            )
            stack.spawn(
                "simulator",
                ["simulate", "--ingest-url", config.ingest_url, "--truth", str(truth)],
                env={"PULSE_API_KEY": simulator_key},
            )
        polled = _start_poller(stack, config)
        _print_where_to_look(config, simulate, admin_key_path, polled)
        while True:
            stack.check_alive()
            time.sleep(0.5)
    except _Stop:
        print("\nstopping…", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"campaign pulse stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short and orphan the services: stopping is
        # bounded anyway (a grace period, then SIGKILL).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
        if broker is not None:
            broker.stop()


def _start_poller(stack: Stack, config: StackConfig) -> list[str]:
    """Start `pulse poll` when at least one platform's credentials are set; the platforms polled.

    It reads its credentials from this environment itself: only the ingest address and its key,
    made here as the simulator's is, are handed to it.
    """
    try:
        platforms: list[str] = sorted(PollerSettings().platforms())
    except ValidationError as exc:
        raise RuntimeError(f"poller settings: {exc}") from None
    if platforms:
        key = issue_service_key(config.database_url, "poller", frozenset({Scope.EVENTS_WRITE}))
        stack.spawn(
            "poller",
            ["poll"],
            env={"PULSE_POLL_INGEST_URL": config.ingest_url, "PULSE_POLL_INGEST_KEY": key},
        )
    return platforms


def _print_where_to_look(
    config: StackConfig, simulate: bool, admin_key: Path, polled: list[str]
) -> None:
    lines = [
        "Campaign Pulse is running. Ctrl-C stops everything.",
        f"  admin key      {admin_key}  (mode 0600; every route but /healthz, /readyz and "
        "/metrics wants a key)",
        f'                 curl -H "Authorization: Bearer $(cat {admin_key})" '
        f"{config.api_url}/v1/campaigns",
        f"  sign in        {config.api_url}/ with that key (more keys: pulse keys create --help)",
        f"  webhooks       may point at {LOCAL_RECEIVERS} (PULSE_WEBHOOK_ALLOW_CIDRS), for local "
        "receivers",
        f"  status page    {config.api_url}/",
        f"  campaigns      {config.api_url}/v1/campaigns",
        f"  alerts         {config.api_url}/v1/alerts   (live: {config.api_url}/v1/alerts/stream)",
        f"  API docs       {config.api_url}/docs",
        f"  send events    POST {config.ingest_url}/v1/events",
        f"  poller         polling {', '.join(polled)} (posts: POST {config.api_url}"
        "/v1/campaigns/{id}/posts)"
        if polled
        else "  poller         off: no platform credentials (PULSE_POLL_INSTAGRAM_TOKEN, "
        "PULSE_POLL_TIKTOK_TOKEN, PULSE_POLL_YOUTUBE_API_KEY)",
        f"  metrics        {config.api_url}/metrics  {config.ingest_url}/metrics  "
        f"{config.monitor_metrics_url}  "
        f"http://127.0.0.1:{config.notifier_metrics_port}/metrics",
        f"  kafka          {config.bootstrap_servers}",
        f"  database       {config.database_url}",
        f"  logs           {config.run_dir}/*.log",
    ]
    if simulate:
        lines.append(f"  ground truth   {config.run_dir / 'ground_truth.json'}")
    print("\n".join(lines), flush=True)
