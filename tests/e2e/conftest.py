"""The services as real processes over a real broker and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.stack import Stack
from tests.e2e.harness import RunningStack, stack_config


@pytest.fixture
def running_stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[RunningStack]:
    config = stack_config(kafka_bootstrap, f"sqlite:///{tmp_path}/pulse.db", tmp_path)
    stack = Stack(config)
    stack.start()
    running = RunningStack(stack)
    try:
        yield running
    finally:
        running.close()
        stack.stop()
