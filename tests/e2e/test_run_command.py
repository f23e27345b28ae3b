"""`pulse run` (what `make run` starts): everything comes up, and Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.runtime.broker import free_port


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_ctrl_c_pressed_twice_still_stops_every_process_it_started(tmp_path: Path) -> None:
    """Also: it writes an admin key (mode 0600) that opens the API, which refuses no key."""
    ports = {
        "PULSE_BROKER_PORT": free_port(),
        "PULSE_INGEST_PORT": free_port(),
        "PULSE_API_PORT": free_port(),
        "PULSE_MONITOR_METRICS_PORT": free_port(),
        "PULSE_NOTIFIER_METRICS_PORT": free_port(),
    }
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}}
    env["PULSE_RUN_DIR"] = str(tmp_path / "run")
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("DATABASE_URL", None)
    run = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--simulate", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{ports['PULSE_API_PORT']}/v1/campaigns"
        key_file = tmp_path / "run" / "admin.key"
        deadline = time.monotonic() + 90
        while True:
            assert run.poll() is None, "pulse run exited before the API answered"
            try:
                key = key_file.read_text().strip() if key_file.exists() else ""
                headers = {"Authorization": f"Bearer {key}"}
                if key and httpx.get(api, headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API never answered"
            time.sleep(0.5)
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert httpx.get(api, timeout=2).status_code == 401
        started = _children(run.pid)
        assert len(started) >= 5  # broker, ingest, monitor, API, notifier

        run.send_signal(signal.SIGINT)
        time.sleep(0.3)
        run.send_signal(signal.SIGINT)

        assert run.wait(timeout=60) == 0
        assert [pid for pid in started if _alive(pid)] == []
    finally:
        if run.poll() is None:
            run.kill()
