"""A real `pulse ingest` process on loopback against clients that would exhaust it: a 1 GiB upload
is refused with 413 without the worker's memory growing by it, and a client trickling its request
a byte at a time, or saying nothing, is cut off after the configured time while other clients are
served meanwhile."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.runtime.stack import Stack, StackConfig
from tests.e2e.harness import RunningStack
from tests.integration.test_ingest import post_metrics

pytestmark = pytest.mark.e2e

GIB = 1 << 30
CHUNK = 64 * 1024
MAX_RSS_GROWTH = 10 * 1024 * 1024
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
# How long past its deadline a cut-off may take: the loop's timers are not exact on a busy machine.
GRACE = 5.0
TRICKLE_EVERY = 0.1


@pytest.fixture
def ingest(kafka_bootstrap: str, tmp_path: Path) -> Iterator[RunningStack]:
    config = StackConfig.isolated(
        kafka_bootstrap, f"sqlite:///{tmp_path}/pulse.db", tmp_path, "abuse"
    )
    config = dataclasses.replace(
        config,
        extra_env={
            "PULSE_INGEST_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "PULSE_INGEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        },
    )
    stack = Stack(config)
    try:
        stack.start(("ingest",))
        with contextlib.closing(RunningStack(stack)) as running:
            yield running
    finally:
        stack.stop()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class Upload:
    """A GiB of JSON-looking bytes, made as they are sent; counts what the server took."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b" " * CHUNK
        yield b"["
        while self.sent < GIB:
            self.sent += CHUNK
            yield chunk


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_gib_upload_is_413_without_the_worker_growing(
    ingest: RunningStack, declared: bool
) -> None:
    pid = ingest.stack.processes["ingest"].pid
    # The first request loads what every request needs (key lookup, validation, producer).
    assert ingest.send([post_metrics("warm", 1)]).status_code == 202
    before = rss_bytes(pid)
    upload = Upload()
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = str(GIB + 1)

    response = ingest.ingest.post("/v1/events", content=iter(upload), headers=headers)

    grown = rss_bytes(pid) - before
    print(f"1 GiB upload ({'declared' if declared else 'chunked'}): RSS grew by {grown} bytes")
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert grown < MAX_RSS_GROWTH
    # The connection is closed at the limit: the client stopped long before its gigabyte.
    assert upload.sent < GIB // 4


def _connect(stack: RunningStack) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", stack.config.ingest_port), timeout=1)
    sock.settimeout(TRICKLE_EVERY)
    return sock


def _others_are_served(stack: RunningStack) -> None:
    assert stack.ingest.get("/healthz").status_code == 200
    assert stack.send([post_metrics("meanwhile", 1)]).status_code == 202


def _trickle_until_cut_off(stack: RunningStack, sock: socket.socket, data: bytes) -> bytes:
    """Send ``data`` a byte per tick (nothing once it is all sent) while other clients make
    requests, until the server closes; return what it answered. Bounded by the deadlines."""
    answer = b""
    limit = time.monotonic() + HEADER_TIMEOUT + BODY_TIMEOUT + GRACE
    for position in range(len(data) + int(limit / TRICKLE_EVERY)):
        assert time.monotonic() < limit, f"still connected after {data[:position]!r}"
        if position < len(data):
            try:
                sock.send(data[position : position + 1])
            except (BrokenPipeError, ConnectionResetError):
                return answer
        try:
            received = sock.recv(4096)
        except TimeoutError:
            received = None
        except ConnectionResetError:
            return answer
        if received == b"":
            return answer
        answer += received or b""
        if position % 5 == 0:
            _others_are_served(stack)
    raise AssertionError("the loop ended without the server closing")


REQUEST_LINE = b"POST /v1/events HTTP/1.1\r\nHost: ingest\r\n"


@pytest.mark.parametrize(
    "data",
    [b"", REQUEST_LINE + b"X-Slow: " + b"a" * 500],
    ids=["silent", "trickled-headers"],
)
def test_slow_headers_are_cut_off_with_408(ingest: RunningStack, data: bytes) -> None:
    # The clock starts before connecting: the server's starts when it accepts, which can come
    # before connect() returns here.
    opened = time.monotonic()
    with _connect(ingest) as sock:
        answer = _trickle_until_cut_off(ingest, sock, data)
        held = time.monotonic() - opened

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"headers did not arrive within 2.0 s" in answer
    assert HEADER_TIMEOUT <= held < HEADER_TIMEOUT + GRACE


def test_a_trickled_body_is_cut_off_with_408(ingest: RunningStack) -> None:
    key = ingest.stack.admin_key()
    headers = (
        REQUEST_LINE
        + (
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n"
        ).encode()
    )
    with _connect(ingest) as sock:
        # Before sending: the server's body clock starts once it has read the headers.
        sent_headers = time.monotonic()
        sock.sendall(headers)
        answer = _trickle_until_cut_off(ingest, sock, b"[" + b" " * 99_998 + b"]")
        held = time.monotonic() - sent_headers

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"body did not arrive within 2.0 s" in answer
    assert BODY_TIMEOUT <= held < BODY_TIMEOUT + GRACE


def test_oversized_headers_are_431(ingest: RunningStack) -> None:
    with _connect(ingest) as sock:
        sock.settimeout(10)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(REQUEST_LINE + b"X-Big: " + b"a" * 200_000)
        answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 431"), answer
    _others_are_served(ingest)


def test_a_request_in_time_is_served_on_a_raw_socket(ingest: RunningStack) -> None:
    """The guard does not cut off a client that is merely not instant."""
    body = httpx.Request("POST", "http://x", json=[post_metrics("raw", 1)]).read()
    key = ingest.stack.admin_key()
    request = (
        REQUEST_LINE
        + (
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    with _connect(ingest) as sock:
        sock.settimeout(10)
        sock.sendall(request[:20])
        time.sleep(HEADER_TIMEOUT / 2)
        sock.sendall(request[20:] + body)
        answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 202"), answer
