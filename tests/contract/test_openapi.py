"""Both services against their own OpenAPI documents, by schemathesis (``st run``, as a client
would run it): every operation with valid and invalid data, deterministic generation, an admin key.
No server error, no answer the document does not describe, no invalid input accepted, no valid
input refused (where the document can say what is valid).

The services are real processes (``Stack``) on a fresh SQLite database and the suite's broker, so
a run starts from the same empty state every time, and with one worker and deterministic
generation it repeats itself. Left out or run apart, and why:

- ``GET /v1/alerts/stream`` never ends; its answers to a bad ``Last-Event-ID`` and to a missing
  key are tested in ``tests/integration/test_alerts.py``.
- ``DELETE /v1/keys/{key_id}``: schemathesis reuses the key ids ``GET /v1/keys`` returns and
  revokes the very key it runs with, after which every answer is 401. It runs last, alone, with a
  key of its own. The stateful phase (which follows the same ids) is off for the same reason.
- ``positive_data_acceptance``: a request can match its JSON Schema and still be refused for
  what a schema cannot say, each named in a 422: an event time before 2004 or in the future,
  observed before posted, another currency than the campaign's; a key that expires in the past;
  a webhook URL that does not resolve to a public address. Schemathesis's
  ``negative_data_rejection`` (nothing invalid accepted) stays on everywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.domain.keys import Scope
from services.runtime.admin_key import issue_service_key
from services.runtime.stack import Stack, StackConfig

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25
ST = Path(sys.executable).with_name("st")
REVOKE = "revoke_v1_keys__key_id__delete"


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("contract")
    config = StackConfig.isolated(kafka_bootstrap, f"sqlite:///{run_dir}/pulse.db", run_dir, "st")
    stack = Stack(config)
    try:
        stack.start(("ingest", "api"))
        yield stack
    finally:
        stack.stop()


def schemathesis(base_url: str, key: str, report: Path, *options: str) -> dict[str, Any]:
    """Run ``st run`` on the service's document; fail with its own account of every finding;
    return its JSON report (operations, test cases, failures)."""
    command = [
        str(ST),
        "run",
        f"{base_url}/openapi.json",
        f"--max-examples={MAX_EXAMPLES}",
        "--generation-deterministic",
        "--mode=all",
        "--workers=1",
        "--phases=examples,coverage,fuzzing",
        "--checks=all",
        f"--header=Authorization: Bearer {key}",
        "--report=json",
        f"--report-json-path={report}",
        "--no-color",
        *options,
    ]
    # Run in the report's directory: schemathesis keeps a cache of past crashes in its working
    # directory and replays them, which would make one run depend on the last.
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=report.parent
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    outcome: dict[str, Any] = json.loads(report.read_text())
    print(
        f"{base_url}: {outcome['operations']['tested']} operations, "
        f"{outcome['test_cases']['generated']} test cases, failures {outcome['failures']}"
    )
    return outcome


def test_ingest_conforms_to_its_document(stack: Stack, tmp_path: Path) -> None:
    outcome = schemathesis(
        stack.config.ingest_url,
        stack.admin_key(),
        tmp_path / "ingest.json",
        "--exclude-checks=positive_data_acceptance",
    )

    assert outcome["operations"]["tested"] == outcome["operations"]["total"]


def test_api_conforms_to_its_document(stack: Stack, tmp_path: Path) -> None:
    revoking = issue_service_key(stack.config.database_url, "revoking", frozenset({Scope.ADMIN}))
    # The key-revoking operation last, with a key of its own (see above).
    runs = [
        ("api", stack.admin_key(), f"--exclude-operation-id={REVOKE}"),
        ("revoke", revoking, f"--include-operation-id={REVOKE}"),
    ]
    every_other, revoke = (
        schemathesis(
            stack.config.api_url,
            key,
            tmp_path / f"{name}.json",
            selection,
            "--exclude-path=/v1/alerts/stream",
            "--exclude-checks=positive_data_acceptance",
        )
        for name, key, selection in runs
    )

    total = every_other["operations"]["total"]
    assert every_other["operations"]["tested"] + revoke["operations"]["tested"] == total - 1
    assert not every_other["warnings"].get("missing_auth"), every_other["warnings"]
