"""The notifier as a real process: killed with SIGKILL while delivering, and a receiver that is
down for a while. Every alert change arrives, in order, verified by the reference verifier."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from services.runtime.broker import free_port
from services.runtime.stack import Stack, StackConfig
from services.storage.alerts import AlertRepository
from services.storage.db import make_engine, migrate
from services.storage.webhooks import WebhookRepository
from tests.alerts import firing_alert
from tests.e2e.harness import eventually

pytestmark = pytest.mark.e2e

CHANGES = 200
KILLS = 5
PER_REQUEST_SECONDS = 0.01
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Receiver:
    """Verifies every request and records its ``webhook-id``; answers 503 while ``down``. It
    takes a little time per request, so that kills land in the middle of the deliveries."""

    def __init__(self, port: int, secret: str) -> None:
        self.ids: list[str] = []
        self.down = False
        self._lock = threading.Lock()
        receiver, verifier = self, Verifier(secret)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(PER_REQUEST_SECONDS)
                status = 503 if receiver.down else 204
                try:
                    verifier.verify(body, dict(self.headers.items()))
                except WebhookVerificationError:
                    status = 401
                if status == 204:
                    with receiver._lock:
                        receiver.ids.append(self.headers["webhook-id"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def unique(self) -> list[str]:
        with self._lock:
            return list(dict.fromkeys(self.ids))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclasses.dataclass
class Setup:
    stack: Stack
    alerts: AlertRepository
    receiver: Receiver


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    database_url = f"sqlite:///{tmp_path}/pulse.db"
    engine = make_engine(database_url)
    migrate(engine)
    port = free_port()
    webhook = WebhookRepository(engine).create(f"http://127.0.0.1:{port}/hook", "generic")
    receiver = Receiver(port, webhook.secret)
    config = StackConfig.isolated("127.0.0.1:9", database_url, tmp_path, "notify")
    # Svix's schedule in hundredths (5 s is 0.05 s, 5 min 3 s…); loopback receivers allowed.
    env = {
        "PULSE_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8",
        "PULSE_NOTIFIER_TIME_SCALE": "0.01",
        "PULSE_NOTIFIER_POLL_INTERVAL_SECONDS": "0.05",
    }
    stack = Stack(dataclasses.replace(config, extra_env=env))
    try:
        yield Setup(stack, AlertRepository(engine), receiver)
    finally:
        stack.stop()
        receiver.close()
        engine.dispose()


def _changes(alerts: AlertRepository, count: int) -> list[str]:
    """``count`` alert changes in the outbox; their webhook ids, in outbox order."""
    for n in range(count):
        alerts.apply([firing_alert(f"camp-{n}", f"change {n}", AT)])
    return [f"evt_{event_id}" for event_id, _ in alerts.events_after(0, limit=count)]


def test_a_notifier_killed_five_times_mid_delivery_loses_nothing(setup: Setup) -> None:
    expected = _changes(setup.alerts, CHANGES)
    setup.stack.start(services=("notify",))

    delivered_at_kills: list[int] = []
    for kill in range(1, KILLS + 1):
        share = kill * CHANGES // (KILLS + 1)
        eventually(lambda: len(setup.receiver.unique()) >= share)  # noqa: B023 - used at once
        setup.stack.stop_service("notify", kill=True)
        delivered_at_kills.append(len(setup.receiver.unique()))
        setup.stack.spawn("notify", ["notify"])
        setup.stack.wait_ready("notify")

    eventually(lambda: len(setup.receiver.unique()) == CHANGES, timeout=120)
    assert all(count < CHANGES for count in delivered_at_kills), delivered_at_kills
    assert setup.receiver.unique() == expected
    # At least once: a kill between a receiver's 2xx and the cursor write re-sends one change.
    assert len(setup.receiver.ids) - CHANGES <= KILLS


def test_a_receiver_down_for_ten_minutes_gets_everything_afterwards_in_order(
    setup: Setup,
) -> None:
    setup.receiver.down = True
    expected = _changes(setup.alerts, 50)
    setup.stack.start(services=("notify",))

    # Ten simulated minutes (time scale 0.01): attempts after 0.05 s and 3 s fail too.
    threading.Timer(6.0, lambda: setattr(setup.receiver, "down", False)).start()

    eventually(lambda: len(setup.receiver.unique()) == len(expected), timeout=120)
    assert setup.receiver.ids == expected
