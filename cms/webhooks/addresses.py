"""Where webhooks may point, and where their deliveries may connect.

A webhook URL is http(s) with a host. Delivering a webhook makes this server send a
request to an address an admin chose: server-side request forgery (SSRF) is the risk, for
the request comes from inside the network the CMS runs in, where a cloud metadata
endpoint (169.254.169.254), a database or an admin panel may answer.

The trade-off. `CMS_WEBHOOK_ALLOW_PRIVATE` defaults to true, because local integrations
(a newsletter service on the same host, a receiver in the same cluster, a developer's
laptop) live at loopback and private addresses, and only admins can create webhooks.
Set it to false where admins should not reach the internal network through the CMS, or
where the webhook URL may come from less trusted hands: then loopback, private,
link-local, shared (CGNAT), multicast, reserved and unspecified addresses are refused, as
are IPv6 addresses that embed such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64).

Checked twice. When the webhook is created, its host is resolved and every address it
resolves to is checked, so the admin hears of a refused URL at once. That alone is not
enough: DNS can answer differently a second later (DNS rebinding), so a check followed by
an ordinary connect could still reach 127.0.0.1. So every delivery resolves the host
itself, checks every address, and connects to the address it checked (`GuardedTransport`),
keeping the Host header and, for https, the TLS server name and certificate check on the
host name. Redirects are never followed. A name that resolves to any refused address is
refused as a whole. What stays open: a public address that forwards to the internal
network (an open proxy of your own) is beyond what an address check can see.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

import httpx

from cms.config import Settings
from cms.errors import Invalid

__all__ = [
    "AddressRefused",
    "GuardedTransport",
    "IPAddress",
    "check",
    "http_client",
    "is_refused",
    "parse",
    "resolve",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver: TypeAlias = Callable[[str, int], Awaitable[list[IPAddress]]]

MAX_URL_LENGTH = 2000
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)


class AddressRefused(httpx.ConnectError):
    """The host resolves to an address that webhooks may not reach."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_refused(address: IPAddress) -> bool:
    """Whether a delivery may not connect to `address` when private addresses are refused."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d reaches a.b.c.d
            return is_refused(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_refused(embedded):
            return True
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def parse(url: str) -> httpx.URL:
    """The URL when it is http(s) with a host; Invalid(field="url") otherwise."""
    url = url.strip()
    if not url:
        raise Invalid("url is required", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise Invalid(f"url is longer than {MAX_URL_LENGTH} characters", field="url")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise Invalid("url is not a valid URL", field="url") from None
    if parsed.scheme not in ("http", "https"):
        raise Invalid("url must start with http:// or https://", field="url")
    if not parsed.host:
        raise Invalid("url has no host", field="url")
    host = parsed.raw_host.decode("ascii")
    if not (_HOST_NAME.fullmatch(host) or ":" in host):  # a name, IPv4, or an IPv6 literal
        raise Invalid(f"url's host {host} is not a valid host name", field="url")
    return parsed


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (getaddrinfo, in a thread), in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop a zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def _refused(host: str, addresses: Iterable[IPAddress]) -> str | None:
    refused = [str(address) for address in addresses if is_refused(address)]
    if not refused:
        return None
    return (
        f"{host} resolves to {', '.join(refused)}, a private or reserved address "
        "(CMS_WEBHOOK_ALLOW_PRIVATE is false)"
    )


async def check(url: str, *, settings: Settings, resolver: Resolver = resolve) -> str:
    """The URL to store, when webhooks may point there; Invalid(field="url") otherwise.

    With private addresses refused, the host is resolved now and every address checked;
    deliveries check again on the address they connect to."""
    parsed = parse(url)
    if not settings.webhook_allow_private:
        host = parsed.raw_host.decode("ascii")
        try:
            addresses = await resolver(host, _port(parsed))
        except OSError:
            raise Invalid(f"url's host {host} does not resolve", field="url") from None
        problem = _refused(host, addresses)
        if problem is not None or not addresses:
            raise Invalid(f"url refused: {problem or host + ' has no address'}", field="url")
    return str(parsed)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host itself, refuses it when any address is refused, and
    connects to a checked address, so that DNS cannot change between check and connect.

    The request goes to the checked IP with the original Host header; for https the TLS
    server name (SNI) and the certificate check use the host name ("sni_hostname").
    Connections are pooled per host name, so a TLS connection checked for one name is
    never reused for another name on the same address."""

    def __init__(
        self,
        *,
        resolver: Resolver = resolve,
        inner: Callable[[], httpx.AsyncBaseTransport] = httpx.AsyncHTTPTransport,
    ) -> None:
        self._resolver = resolver
        self._inner = inner
        self._transports: dict[tuple[str, str, int], httpx.AsyncBaseTransport] = {}

    def _transport_for(self, key: tuple[str, str, int]) -> httpx.AsyncBaseTransport:
        transport = self._transports.get(key)
        if transport is None:
            transport = self._transports[key] = self._inner()
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.raw_host.decode("ascii")
        try:
            addresses = await self._resolver(host, _port(url))
        except OSError as error:
            raise httpx.ConnectError(f"cannot resolve {host}: {error}", request=request) from None
        problem = _refused(host, addresses)
        if problem is not None:
            raise AddressRefused(problem, request=request)
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address", request=request)
        transport = self._transport_for((url.scheme, host, _port(url)))
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = host
        last: httpx.ConnectError | None = None
        for address in addresses:  # the next checked address when one does not answer
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=str(address)),
                headers=request.headers,  # with the Host header of the name
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await transport.handle_async_request(pinned)
            except httpx.ConnectError as error:
                last = error
        assert last is not None
        raise last

    async def aclose(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            await transport.aclose()


def http_client(settings: Settings, **options: Any) -> httpx.AsyncClient:
    """The client deliveries are sent with: no redirects, no proxies from the environment,
    the delivery timeout, and the guarded transport when private addresses are refused."""
    transport: httpx.AsyncBaseTransport = (
        httpx.AsyncHTTPTransport() if settings.webhook_allow_private else GuardedTransport()
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=settings.webhook_timeout_seconds,
        **options,
    )
