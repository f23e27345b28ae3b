"""The services running as processes, fed by the simulator and a few bad events, and scraped every
second by a real Prometheus that loads the deployment's rules."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from kafka import KafkaProducer

from services.runtime.broker import free_port
from services.runtime.stack import Stack, StackConfig
from services.simulator.runner import run_simulation
from tests.e2e.events import messy_campaign, steady_campaign
from tests.e2e.harness import eventually, stack_config

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
JOBS = ("ingest", "api", "monitor")
SIMULATION_SECONDS = 10.0
SIMULATED_DAYS = 10


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed: run `make system-packages`"
    return path


class LocalPrometheus:
    """A Prometheus server scraping ``targets`` (job → host:port) every second."""

    def __init__(self, data_dir: Path, targets: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "rule_files": [str(path) for path in RULE_FILES],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target]}]}
                for job, target in targets.items()
            ],
        }
        # JSON is YAML: Prometheus reads it as its configuration file.
        self.config_path = data_dir / "prometheus.yml"
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self.log_path = data_dir / "prometheus.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    tool("prometheus"),
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={data_dir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=log,
            )
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"prometheus exited; see {self.log_path}"
            try:
                return self.client.get("/-/ready").status_code == 200
            except httpx.TransportError:
                return False

        eventually(ready, timeout=timeout)

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/query", params={"query": expr})
        body = response.json()
        assert body.get("status") == "success", f"{expr!r}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class ObservedStack:
    config: StackConfig
    prometheus: LocalPrometheus

    def metrics_urls(self) -> dict[str, str]:
        return {
            "ingest": f"{self.config.ingest_url}/metrics",
            "api": f"{self.config.api_url}/metrics",
            "monitor": self.config.monitor_metrics_url,
        }


def send_bad_events(config: StackConfig, headers: dict[str, str]) -> None:
    """Events ingest rejects for several reasons, and messages only the monitor can refuse."""
    events, _ = messy_campaign("observed-bad", creators=1, posts=1, seed=3)
    spend = next(e for e in events if e["type"] == "spend")
    snapshot = next(e for e in events if e["type"] == "post_metrics")
    rejected = [
        {key: value for key, value in spend.items() if key != "amount"},
        {**snapshot, "views": -1},
        {**snapshot, "surprise": True},
        {**spend, "type": "refund"},
        "not an event",
    ]
    response = httpx.post(
        f"{config.ingest_url}/v1/events", json=rejected, headers=headers, timeout=30
    )
    assert response.status_code == 422, response.text
    producer = KafkaProducer(bootstrap_servers=config.bootstrap_servers)
    producer.send(config.events_topic, key=b"observed-bad", value=b"{not json")
    producer.send(config.events_topic, key=b"someone-else", value=orjson.dumps(snapshot))
    producer.flush()
    producer.close()


def send_decaying_campaign(config: StackConfig, headers: dict[str, str]) -> None:
    """A campaign whose engagement halves in its last day, so the decaying panels have data
    whatever the simulated campaigns happen to be doing when Prometheus is queried."""
    events = steady_campaign(
        "observed-drop",
        creators=4,
        hours=7 * 24,
        views_per_hour=2_000,
        rate=0.06,
        drop_after=7 * 24 - 24,
        rate_after=0.025,
        noise=0.1,
        seed=4,
    )
    with httpx.Client(base_url=config.ingest_url, headers=headers, timeout=30) as ingest:
        for start in range(0, len(events), 500):
            response = ingest.post("/v1/events", json=events[start : start + 500])
            assert response.status_code == 202, response.text

    def decaying() -> bool:
        response = httpx.get(
            f"{config.api_url}/v1/campaigns/observed-drop", headers=headers, timeout=10
        )
        return response.status_code == 200 and response.json()["status"] == "decaying"

    eventually(decaying, timeout=90)


def dead_letters_counted(config: StackConfig) -> float:
    text = httpx.get(config.monitor_metrics_url, timeout=10).text
    match = re.search(r"^pulse_monitor_dead_letters_total (\S+)$", text, flags=re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="package")
def observed_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ObservedStack]:
    run_dir = tmp_path_factory.mktemp("observed")
    config = stack_config(kafka_bootstrap, f"sqlite:///{run_dir}/pulse.db", run_dir)
    prometheus = LocalPrometheus(
        run_dir / "prometheus",
        {job: f"127.0.0.1:{config.port_of(job)}" for job in JOBS},
    )
    stack = Stack(config)
    try:
        prometheus.wait_ready()
        stack.start()
        asyncio.run(
            run_simulation(
                config.ingest_url,
                seed=41,
                campaigns=6,
                history=timedelta(days=SIMULATED_DAYS),
                speed=SIMULATED_DAYS * 86400 / SIMULATION_SECONDS,
                batch_size=500,
                truth_path=run_dir / "truth.json",
                duration=SIMULATION_SECONDS,
                api_key=stack.admin_key(),
            )
        )
        send_decaying_campaign(config, stack.auth_headers())
        send_bad_events(config, stack.auth_headers())
        eventually(lambda: dead_letters_counted(config) >= 2, timeout=60)
        with httpx.Client(base_url=config.api_url, headers=stack.auth_headers(), timeout=30) as api:
            for path in ("/v1/campaigns", "/healthz", "/v1/campaigns/unknown"):
                api.get(path)
        yield ObservedStack(config, prometheus)
    finally:
        prometheus.stop()
        stack.stop()
