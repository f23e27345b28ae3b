"""Outbound HTTP to URLs that users give us (webhooks), guarded against server-side request forgery.

One guard serves registration, "send test" and every delivery, so none of them can be the gap.
A host is resolved once; every address it resolves to is parsed with ``ipaddress`` and checked
(never the text of the URL: ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` are all
127.0.0.1 to the resolver), and the connection goes to an address that was checked, so a second
lookup answering something else (DNS rebinding) is never asked. Loopback, private, link-local,
carrier-grade NAT, unique-local, unspecified, multicast and reserved addresses are refused, also
when IPv6 wraps them (IPv4-mapped or -compatible, 6to4, Teredo, NAT64).
``PULSE_WEBHOOK_ALLOW_CIDRS`` admits chosen ranges for local receivers in development, but never
the cloud metadata addresses, and an allowed address is still pinned like any other. Redirects
are never followed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Annotated

import httpcore
import httpx
from pydantic import AliasChoices, BeforeValidator, Field
from pydantic_settings import NoDecode

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Instance metadata services hand out cloud credentials: refused even when an allowlist covers them.
METADATA_ADDRESSES = frozenset(
    ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_CARRIER_GRADE_NAT = IPv4Network("100.64.0.0/10")
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
_LOW_32_BITS = 0xFFFFFFFF


class EgressRefused(Exception):
    """The URL may not be called; the message says why."""


def parse_cidrs(text: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, ::1/128"`` as networks; a ValueError names the entry that is not one."""
    entries = text.split(",") if isinstance(text, str) else text
    networks = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not a CIDR range ({exc})") from None
    return tuple(networks)


AllowCidrs = Annotated[tuple[IPNetwork, ...], NoDecode, BeforeValidator(parse_cidrs)]


def allow_cidrs_field() -> AllowCidrs:
    """The settings field of ``PULSE_WEBHOOK_ALLOW_CIDRS``, which the API and the notifier read."""
    allowed: AllowCidrs = Field(
        default=(),
        validation_alias=AliasChoices("PULSE_WEBHOOK_ALLOW_CIDRS"),
        description="Comma-separated CIDR ranges webhooks may reach although they are not "
        "public (local receivers in development); cloud metadata addresses stay refused.",
    )
    return allowed


def _embedded(address: IPAddress) -> Iterator[IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, which a host may route to."""
    if isinstance(address, IPv4Address):
        return
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address.sixtofour is not None:
        yield address.sixtofour
    if address.teredo is not None:
        yield from address.teredo
    # :: and ::1 are in ::/96 too, but are IPv6's own unspecified and loopback addresses.
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        yield IPv4Address(int(address) & _LOW_32_BITS)


def _special_use(address: IPAddress) -> str | None:
    """What makes an address not a public one, or None for a public address."""
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address in _CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if isinstance(address, IPv6Address) and address in IPv6Network("fc00::/7"):
        return "a unique-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses outbound requests may reach: public ones, plus ``allow``."""

    allow: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or None when it may."""
        # The IPv4 address an IPv6 one wraps first: what it reaches names the reason best.
        forms = [*_embedded(address), address]
        for form in forms:
            if form in METADATA_ADDRESSES:
                return f"{address} is a cloud metadata address"
        if any(form in network for form in forms for network in self.allow):
            return None
        for form in forms:
            reason = _special_use(form)
            if reason is not None:
                return f"{address} is {reason}" + (f" ({form})" if form != address else "")
        return None

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, once; EgressRefused when it does not resolve or
        when any of them is refused (a name is as unsafe as its worst address)."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise EgressRefused(f"host {host!r} does not resolve ({exc})") from None
        addresses = list(dict.fromkeys(ip_address(info[4][0]) for info in infos))
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                named = "" if host == str(address) else f"host {host!r}: "
                raise EgressRefused(f"{named}{reason}")
        return addresses

    async def check_url(self, url: str) -> None:
        """EgressRefused unless ``url`` is http(s) with a host whose addresses are all allowed."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise EgressRefused(f"not a valid URL ({exc})") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise EgressRefused("only http and https URLs with a host can be called")
        await self.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host itself and connects to a checked address. TLS still verifies
    the certificate against the name, and httpx sends it as Host, as httpcore passes the URL's
    host to ``start_tls`` as the server name."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout):
            addresses = await self._policy.resolve(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("unix sockets cannot be called")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx has no public way to give its pool a network backend; httpcore's pool takes one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_PinnedBackend(policy),
        )


def guarded_client(policy: EgressPolicy, timeout: float) -> httpx.AsyncClient:
    """An HTTP client that reaches only what ``policy`` allows, pinned to the checked address,
    ignoring proxy settings from the environment (a proxy would resolve the name again) and
    never following a redirect."""
    return httpx.AsyncClient(
        transport=_PinnedTransport(policy),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
