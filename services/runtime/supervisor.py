"""`pulse run`: the whole system on one machine — embedded broker, SQLite, ingest, monitor, API and
the simulator — each service in its own process; Ctrl-C or SIGTERM stops all of them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.broker import EmbeddedBroker, wait_for_port

STOP_GRACE_SECONDS = 6.0


class StackSettings(BaseSettings):
    """Where `pulse run` puts things; environment prefix ``PULSE_``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore")

    run_dir: Path = Path(".run")
    broker_port: int = 9092
    ingest_port: int = Field(8001, validation_alias=AliasChoices("PULSE_INGEST_PORT"))
    api_port: int = Field(8000, validation_alias=AliasChoices("PULSE_API_PORT"))
    monitor_metrics_port: int = Field(
        8002, validation_alias=AliasChoices("PULSE_MONITOR_METRICS_PORT")
    )
    kafka_bootstrap_servers: str | None = Field(
        None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))


@dataclass
class Stack:
    settings: StackSettings
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def environment(self, bootstrap: str, database_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            DATABASE_URL=database_url,
            PULSE_INGEST_PORT=str(self.settings.ingest_port),
            PULSE_API_PORT=str(self.settings.api_port),
            PULSE_MONITOR_METRICS_PORT=str(self.settings.monitor_metrics_port),
            PULSE_MONITOR_DATA_DIR=str(self.settings.run_dir / "monitor"),
        )
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.settings.run_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args], env=env, stdout=log, stderr=log
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.settings.run_dir / f"{name}.log"
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.broker is not None:
            self.broker.stop()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_stack(simulate: bool) -> int:
    settings = StackSettings()
    run_dir = settings.run_dir
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        if settings.kafka_bootstrap_servers is None:
            # The embedded broker keeps nothing across restarts, so neither may the state derived
            # from it.
            shutil.rmtree(run_dir, ignore_errors=True)
            stack.broker = EmbeddedBroker(settings.broker_port).start()
            bootstrap = stack.broker.bootstrap_servers
        else:
            bootstrap = settings.kafka_bootstrap_servers
        run_dir.mkdir(parents=True, exist_ok=True)
        database_url = settings.database_url or f"sqlite:///{run_dir.resolve()}/pulse.db"
        env = stack.environment(bootstrap, database_url)
        stack.spawn("monitor", ["monitor"], env)
        stack.spawn("ingest", ["ingest"], env)
        stack.spawn("api", ["api"], env)
        for port in (settings.ingest_port, settings.api_port, settings.monitor_metrics_port):
            wait_for_port("127.0.0.1", port, timeout=60)
        if simulate:
            stack.spawn(
                "simulator",
                ["simulate", "--ingest-url", f"http://127.0.0.1:{settings.ingest_port}",
                 "--truth", str(run_dir / "ground_truth.json")],
                env,
            )
        _print_where_to_look(settings, bootstrap, database_url, simulate)
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
        stack.stop()


def _print_where_to_look(
    settings: StackSettings, bootstrap: str, database_url: str, simulate: bool
) -> None:
    api = f"http://127.0.0.1:{settings.api_port}"
    lines = [
        "Campaign Pulse is running. Ctrl-C stops everything.",
        f"  status API     {api}/v1/campaigns   (OpenAPI docs: {api}/docs)",
        f"  ingest         http://127.0.0.1:{settings.ingest_port}/v1/events",
        f"  metrics        {api}/metrics  http://127.0.0.1:{settings.ingest_port}/metrics  "
        f"http://127.0.0.1:{settings.monitor_metrics_port}/metrics",
        f"  kafka          {bootstrap}",
        f"  database       {database_url}",
        f"  logs           {settings.run_dir}/*.log",
    ]
    if simulate:
        lines.append(f"  ground truth   {settings.run_dir / 'ground_truth.json'}")
    print("\n".join(lines), flush=True)
