"""The services as real processes over a real broker and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.stack import Stack
from tests.e2e.harness import RunningStack, stack_config


def _running(kafka_bootstrap: str, directory: Path) -> Iterator[RunningStack]:
    config = stack_config(kafka_bootstrap, f"sqlite:///{directory}/pulse.db", directory)
    stack = Stack(config)
    stack.start()
    running = RunningStack(stack)
    try:
        yield running
    finally:
        running.close()
        stack.stop()


@pytest.fixture
def running_stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[RunningStack]:
    """A stack of its own, for a test that stops, kills or reconfigures a part of it."""
    yield from _running(kafka_bootstrap, tmp_path)


@pytest.fixture(scope="module")
def shared_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    """One stack for a module's tests that only send and read, each on campaigns of its own."""
    yield from _running(kafka_bootstrap, tmp_path_factory.mktemp("stack"))
