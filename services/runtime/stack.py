"""Ingest, monitor and API as processes on one machine: used by `pulse run`, the end-to-end tests
and the benchmark, so all three exercise the services exactly as they are deployed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services.runtime.admin_key import ADMIN_KEY_FILE, provision_admin_key
from services.runtime.broker import free_port, wait_for_port

STOP_GRACE_SECONDS = 6.0
SERVICES = ("monitor", "ingest", "api", "notify")


@dataclass(frozen=True)
class StackConfig:
    bootstrap_servers: str
    database_url: str
    run_dir: Path
    ingest_port: int = 8001
    api_port: int = 8000
    monitor_metrics_port: int = 8002
    notifier_metrics_port: int = 8003
    events_topic: str = "pulse.events"
    dead_letter_topic: str = "pulse.dead-letters"
    monitor_app_id: str = "campaign-pulse-monitor"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def isolated(
        cls, bootstrap_servers: str, database_url: str, run_dir: Path, label: str
    ) -> StackConfig:
        """A stack with free ports and its own topics and consumer group, so that several can
        share one broker (tests, the benchmark)."""
        run = f"{label}-{uuid.uuid4().hex[:8]}"
        return cls(
            bootstrap_servers=bootstrap_servers,
            database_url=database_url,
            run_dir=run_dir,
            ingest_port=free_port(),
            api_port=free_port(),
            monitor_metrics_port=free_port(),
            notifier_metrics_port=free_port(),
            events_topic=f"{run}.events",
            dead_letter_topic=f"{run}.dead-letters",
            monitor_app_id=f"{run}-monitor",
        )

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def monitor_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_metrics_port}/metrics"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap_servers,
            DATABASE_URL=self.database_url,
            PULSE_EVENTS_TOPIC=self.events_topic,
            PULSE_DEAD_LETTER_TOPIC=self.dead_letter_topic,
            PULSE_INGEST_PORT=str(self.ingest_port),
            PULSE_API_PORT=str(self.api_port),
            PULSE_MONITOR_METRICS_PORT=str(self.monitor_metrics_port),
            PULSE_NOTIFIER_METRICS_PORT=str(self.notifier_metrics_port),
            PULSE_MONITOR_APP_ID=self.monitor_app_id,
            PULSE_MONITOR_DATA_DIR=str(self.run_dir / "monitor"),
        )
        env.update(self.extra_env)
        return env

    def port_of(self, service: str) -> int:
        return {
            "monitor": self.monitor_metrics_port,
            "ingest": self.ingest_port,
            "api": self.api_port,
            "notify": self.notifier_metrics_port,
        }[service]


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._admin_key: str | None = None
        config.run_dir.mkdir(parents=True, exist_ok=True)

    def admin_key(self) -> str:
        """The stack's admin key, in ``<run_dir>/admin.key`` as ``pulse run`` leaves it."""
        if self._admin_key is None:
            self._admin_key = provision_admin_key(
                self.config.database_url, self.config.run_dir / ADMIN_KEY_FILE
            )
        return self._admin_key

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key()}"}

    def log_path(self, name: str) -> Path:
        return self.config.run_dir / f"{name}.log"

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Start ``pulse <args>`` as ``name``, with ``env`` over the stack's environment (a
        second worker of a service needs its own ports)."""
        with self.log_path(name).open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", *args],
                env=self.config.environment() | (env or {}),
                stdout=log,
                stderr=log,
            )

    def start(self, services: tuple[str, ...] = SERVICES, timeout: float = 60) -> None:
        for name in services:
            self.spawn(name, [name])
        for name in services:
            self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                wait_for_port("127.0.0.1", self.config.port_of(name), timeout=0.5)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not start; see {self.log_path(name)}") from None

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; see {self.log_path(name)}"
                )

    def stop_service(self, name: str, kill: bool = False) -> None:
        process = self.processes.pop(name)
        _stop([process], kill)

    def stop(self) -> None:
        _stop(list(self.processes.values()), kill=False)
        self.processes.clear()


def _stop(processes: list[subprocess.Popen[bytes]], kill: bool) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
