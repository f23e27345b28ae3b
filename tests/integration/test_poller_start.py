"""`pulse run` starts `pulse poll` as a process of its own when a platform's credentials are set,
says which platforms it polls, and leaves it out (saying why) when none are."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from services.runtime.stack import Stack, StackConfig
from services.runtime.supervisor import _print_where_to_look, _start_poller

pytestmark = pytest.mark.integration


def _stack(tmp_path: Path) -> Stack:
    config = StackConfig(
        bootstrap_servers="127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'pulse.db'}",
        run_dir=tmp_path / "run",
    )
    return Stack(config)


def test_credentials_start_the_poller_and_it_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PULSE_POLL_TIKTOK_TOKEN", "tt-token-s3cret")
    monkeypatch.setenv("PULSE_POLL_TIKTOK_BASE_URL", "http://127.0.0.1:9")
    stack = _stack(tmp_path)
    try:
        assert _start_poller(stack, stack.config) == ["tiktok"]
        poller = stack.processes["poller"]
        # It says so once its signal handlers are in place.
        deadline = time.monotonic() + 30
        while "pulse poll: polling tiktok" not in stack.log_path("poller").read_text():
            assert poller.poll() is None, stack.log_path("poller").read_text()
            assert time.monotonic() < deadline, "the poller never said it polls"
            time.sleep(0.1)
        assert poller.poll() is None, stack.log_path("poller").read_text()
    finally:
        stack.stop()
    assert poller.returncode == 0
    assert "tt-token-s3cret" not in stack.log_path("poller").read_text()
    _print_where_to_look(stack.config, False, tmp_path / "admin.key", ["tiktok"])
    assert "poller         polling tiktok" in capsys.readouterr().out


def test_without_credentials_no_poller_starts_and_the_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("INSTAGRAM_TOKEN", "TIKTOK_TOKEN", "YOUTUBE_API_KEY"):
        monkeypatch.delenv(f"PULSE_POLL_{name}", raising=False)
    stack = _stack(tmp_path)
    assert _start_poller(stack, stack.config) == []
    assert stack.processes == {}
    _print_where_to_look(stack.config, False, tmp_path / "admin.key", [])
    assert "poller         off: no platform credentials" in capsys.readouterr().out


def test_a_base_url_that_is_not_http_stops_the_run_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_POLL_YOUTUBE_API_KEY", "yt-key-s3cret")
    monkeypatch.setenv("PULSE_POLL_YOUTUBE_BASE_URL", "ftp://videos.invalid")
    with pytest.raises(RuntimeError, match="youtube_base_url") as raised:
        _start_poller(_stack(tmp_path), _stack(tmp_path).config)
    assert "yt-key-s3cret" not in str(raised.value)
