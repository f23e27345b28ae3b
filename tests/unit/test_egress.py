"""The SSRF guard: addresses in many spellings, names that resolve to them, rebinding, the
allowlist, redirects, and a loopback listener that must never see a refused request."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address, ip_network
from typing import Any

import pytest

from services.notifier.delivery import Sender
from services.runtime.egress import EgressPolicy, EgressRefused, guarded_client, parse_cidrs

PUBLIC = "93.184.215.14"
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)

# Every way of writing a refused address that we know of, and what the refusal must name.
# ``{port}`` is a loopback listener's: a loopback spelling that slipped through would reach it.
VECTORS = [
    ("http://127.0.0.1:{port}/", "loopback"),
    ("http://2130706433:{port}/", "loopback"),  # decimal
    ("http://0x7f.1:{port}/", "loopback"),  # hex, short
    ("http://0x7f000001:{port}/", "loopback"),  # one hex number
    ("http://127.1:{port}/", "loopback"),  # short
    ("http://127.0.1:{port}/", "loopback"),
    ("http://0177.0.0.1:{port}/", "not a valid URL"),  # octal: httpx will not parse it
    ("http://0251.0376.0251.0376/", "not a valid URL"),
    ("http://localhost:{port}/", "loopback"),  # a name resolving to loopback
    ("http://[::1]:{port}/", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]:{port}/", "loopback"),
    ("http://[::127.0.0.1]:{port}/", "loopback"),  # IPv4-compatible
    ("http://[2002:7f00:1::]:{port}/", "loopback"),  # 6to4
    ("http://[64:ff9b::7f00:1]:{port}/", "loopback"),  # NAT64
    ("http://0.0.0.0:{port}/", "unspecified"),
    ("http://0:{port}/", "unspecified"),
    ("http://[::]:{port}/", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://2852039166/", "metadata"),  # decimal
    ("http://0xa9fea9fe/", "metadata"),  # hex
    ("http://0xa9.0xfe.0xa9.0xfe/", "metadata"),  # hex per byte
    ("http://169.254.43518/", "metadata"),  # short
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://100.100.100.200/", "metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://[fd00::1]/", "unique-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.254/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[::ffff:10.1.2.3]/", "private"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://internal.test:{port}/", "private"),  # fake DNS: a public and a private address
    ("http://nowhere.invalid/", "does not resolve"),
]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Fake names: each lookup of a name takes its next answer (the last one repeats); other
    names go to the real resolver. Lookups are counted in ``dns["lookups"]``."""
    answers: dict[str, list[list[str]]] = {"internal.test": [[PUBLIC, "10.0.0.7"]]}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        answers.setdefault("lookups", []).append([host])
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


class Listener:
    """A TCP listener on loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port: int = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    listening = Listener()
    yield listening
    listening.close()


def _receiver(answer: Callable[[BaseHTTPRequestHandler], None]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _send(policy: EgressPolicy, url: str) -> tuple[int | None, str | None]:
    async with guarded_client(policy, timeout=5) as client:
        attempt = await Sender(client, timeout=5).send(url, "msg_1", b"{}", [_SECRET], NOW)
    return attempt.status, attempt.error


_SECRET = "whsec_" + "A" * 32


def test_there_are_enough_vectors() -> None:
    assert len(VECTORS) >= 25


@pytest.mark.parametrize(("url", "reason"), VECTORS)
async def test_refused_urls_are_refused_at_registration_and_delivery_and_never_connect(
    url: str, reason: str, listener: Listener, dns: dict[str, list[list[str]]]
) -> None:
    url = url.format(port=listener.port)
    with pytest.raises(EgressRefused, match=reason):
        await EgressPolicy().check_url(url)

    status, error = await _send(EgressPolicy(), url)

    assert status is None
    assert error is not None and error.startswith("refused:") and reason in error
    assert listener.connections == 0


async def test_a_public_address_passes_the_check() -> None:
    await EgressPolicy().check_url(f"https://{PUBLIC}/hook")
    await EgressPolicy().check_url("http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/")


@pytest.mark.parametrize(
    ("allow", "address", "allowed"),
    [
        ("127.0.0.0/8", "127.0.0.1", True),
        ("127.0.0.0/8", "::ffff:127.0.0.1", True),
        ("127.0.0.0/8", "::1", False),
        ("127.0.0.0/8", "10.0.0.1", False),
        ("169.254.0.0/16", "169.254.169.254", False),
        ("169.254.0.0/16", "169.254.1.1", True),
        ("0.0.0.0/0", "169.254.169.254", False),
        ("0.0.0.0/0", "100.100.100.200", False),
        ("::/0", "::ffff:169.254.169.254", False),
        ("fc00::/7", "fd00:ec2::254", False),
        ("fc00::/7", "fd00::1", True),
    ],
)
def test_the_allowlist_admits_its_ranges_but_never_metadata(
    allow: str, address: str, allowed: bool
) -> None:
    refusal = EgressPolicy(parse_cidrs(allow)).refusal(ip_address(address))

    assert (refusal is None) is allowed, refusal


def test_allowlist_entries_that_are_not_ranges_are_named() -> None:
    assert parse_cidrs(" 127.0.0.0/8, ,::1/128 ") == (
        ip_network("127.0.0.0/8"),
        ip_network("::1/128"),
    )
    with pytest.raises(ValueError, match=re.escape("'10.0.0.1/8' is not a CIDR range")):
        parse_cidrs("127.0.0.0/8,10.0.0.1/8")
    with pytest.raises(ValueError, match="'intranet'"):
        parse_cidrs("intranet")


async def test_an_allowlisted_name_is_pinned_to_the_address_that_was_checked(
    dns: dict[str, list[list[str]]],
) -> None:
    """DNS rebinding: the name first resolves to an allowed receiver, then to the metadata
    address; the request goes to the checked address and the name is looked up only once."""
    hosts: list[str | None] = []

    def ok(handler: BaseHTTPRequestHandler) -> None:
        hosts.append(handler.headers["Host"])
        handler.send_response(204)
        handler.end_headers()

    server = _receiver(ok)
    try:
        port = server.server_address[1]
        dns["rebind.test"] = [["127.0.0.1"], ["169.254.169.254"]]
        status, error = await _send(
            EgressPolicy(parse_cidrs("127.0.0.0/8")), f"http://rebind.test:{port}/hook"
        )
    finally:
        server.shutdown()
        server.server_close()

    assert (status, error) == (204, None)
    assert hosts == [f"rebind.test:{port}"]
    assert dns["lookups"] == [["rebind.test"]]


async def test_an_allowlist_does_not_admit_a_name_with_one_refused_address(
    dns: dict[str, list[list[str]]],
) -> None:
    dns["mixed.test"] = [["127.0.0.1", "10.0.0.7"]]

    with pytest.raises(EgressRefused, match=re.escape("10.0.0.7 is a private address")):
        await EgressPolicy(parse_cidrs("127.0.0.0/8")).check_url("http://mixed.test/")


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/iam", "http://127.0.0.1:{port}/", "/elsewhere"],
)
async def test_redirects_are_failures_and_are_not_followed(
    location: str, listener: Listener
) -> None:
    """Even from an allowed receiver, to the metadata address or to another allowed one."""

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location.format(port=listener.port))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server = _receiver(redirect)
    try:
        status, error = await _send(
            EgressPolicy(parse_cidrs("127.0.0.0/8")),
            f"http://127.0.0.1:{server.server_address[1]}/hook",
        )
    finally:
        server.shutdown()
        server.server_close()

    assert status == 302
    assert error == "HTTP 302 (redirect, not followed)"
    assert listener.connections == 0
