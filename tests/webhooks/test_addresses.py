"""cms.webhooks.addresses: webhook URLs, and the addresses deliveries may connect to when
CMS_WEBHOOK_ALLOW_PRIVATE is false: checked on creation and again at connect time."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from tortoise.transactions import in_transaction

from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.errors import Invalid
from cms.events import outbox
from cms.models import DeliveryStatus, Webhook, WebhookDelivery
from cms.webhooks import addresses, deliveries, service

ADMIN = Viewer(name="tests", role=Role.ADMIN)
PUBLIC = ipaddress.ip_address("93.184.215.14")


def _settings(allow_private: bool, base: Settings | None = None) -> Settings:
    base = base or Settings(database_url="sqlite://:memory:")
    return base.model_copy(update={"webhook_allow_private": allow_private})


STRICT = _settings(False)
OPEN = _settings(True)


@dataclass
class FakeDNS:
    """A resolver whose answers a test chooses: host -> one list of addresses per lookup
    (the last one repeats), to play a rebinding name server."""

    answers: dict[str, list[list[str]]]
    lookups: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[addresses.IPAddress]:
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        queue = self.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ipaddress.ip_address(address) for address in answer]


@dataclass
class Recorder:
    """An inner transport's handler: records what would have gone on the wire."""

    requests: list[httpx.Request] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses that do not answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.refuse:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        return httpx.Response(200)


def _guarded(dns: FakeDNS, recorder: Recorder) -> httpx.AsyncClient:
    transport = addresses.GuardedTransport(
        resolver=dns, inner=lambda: httpx.MockTransport(recorder)
    )
    return httpx.AsyncClient(transport=transport)


# --- which addresses -------------------------------------------------------------------

REFUSED = [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
]  # fmt: skip
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_reserved_addresses_are_refused(address: str) -> None:
    assert addresses.is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not addresses.is_refused(ipaddress.ip_address(address))


# --- at creation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["", "   ", "hooks.example/x", "ftp://hooks.example/x", "file:///etc/passwd",
     "javascript:alert(1)", "http://", "https:///path", "http://exa mple.com/"],
)  # fmt: skip
async def test_a_url_must_be_http_or_https_with_a_host(url: str) -> None:
    with pytest.raises(Invalid) as caught:
        await addresses.check(url, settings=OPEN)

    assert caught.value.field == "url"


async def test_any_http_url_is_allowed_by_default() -> None:
    for url in ("http://localhost:8080/hook", "http://10.0.0.7/x", "https://hooks.example/x"):
        assert await addresses.check(url, settings=OPEN) == url


async def test_a_url_longer_than_the_column_is_refused() -> None:
    with pytest.raises(Invalid, match="longer than 2000"):
        await addresses.check("https://hooks.example/" + "x" * 2000, settings=OPEN)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/hook",  # resolved for real: 127.0.0.1 (and ::1)
        "http://127.0.0.1/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as one number
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_private_addresses_are_refused_on_creation_when_not_allowed(url: str) -> None:
    with pytest.raises(Invalid, match="CMS_WEBHOOK_ALLOW_PRIVATE is false") as caught:
        await addresses.check(url, settings=STRICT)

    assert caught.value.field == "url"


async def test_a_name_resolving_to_any_private_address_is_refused() -> None:
    dns = FakeDNS({"hooks.example": [["8.8.8.8", "10.0.0.5"]]})

    with pytest.raises(Invalid, match="10.0.0.5"):
        await addresses.check("https://hooks.example/x", settings=STRICT, resolver=dns)


async def test_a_name_that_does_not_resolve_is_refused_when_private_is_not_allowed() -> None:
    with pytest.raises(Invalid, match="does not resolve"):
        await addresses.check("https://nowhere.example/x", settings=STRICT, resolver=FakeDNS({}))


async def test_a_public_name_is_allowed() -> None:
    dns = FakeDNS({"hooks.example": [[str(PUBLIC)]]})

    assert await addresses.check("https://hooks.example/x", settings=STRICT, resolver=dns)


async def test_the_service_refuses_a_private_url_and_records_nothing(
    settings: Settings, db: None
) -> None:
    strict = _settings(False, settings)

    with pytest.raises(Invalid) as caught:
        await service.create(
            viewer=ADMIN, url="http://localhost:9/hook", events=["CONTENT_PUBLISHED"],
            settings=strict,
        )  # fmt: skip

    assert caught.value.field == "url"
    assert await Webhook.all().count() == 0


# --- at connect time -------------------------------------------------------------------


async def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept() -> None:
    dns = FakeDNS({"hooks.example": [[str(PUBLIC)]]})
    recorder = Recorder()

    async with _guarded(dns, recorder) as client:
        response = await client.post("https://hooks.example:8443/x?a=1", content=b"{}")

    assert response.status_code == 200
    [sent] = recorder.requests
    assert sent.url == httpx.URL(f"https://{PUBLIC}:8443/x?a=1")
    assert sent.headers["host"] == "hooks.example:8443"
    assert sent.extensions["sni_hostname"] == "hooks.example"  # TLS name and certificate check
    assert response.request.url == httpx.URL("https://hooks.example:8443/x?a=1")


async def test_plain_http_keeps_the_host_header_and_needs_no_tls_name() -> None:
    dns = FakeDNS({"hooks.example": [[str(PUBLIC)]]})
    recorder = Recorder()

    async with _guarded(dns, recorder) as client:
        await client.post("http://hooks.example/x", content=b"{}")

    [sent] = recorder.requests
    assert sent.url.host == str(PUBLIC)
    assert sent.headers["host"] == "hooks.example"
    assert "sni_hostname" not in sent.extensions


async def test_dns_rebinding_after_the_check_is_refused_at_connect_time() -> None:
    # Public when the webhook is created, loopback a moment later when it is delivered.
    dns = FakeDNS({"rebind.example": [["8.8.8.8"], ["127.0.0.1"]]})
    recorder = Recorder()
    url = await addresses.check("http://rebind.example/x", settings=STRICT, resolver=dns)

    async with _guarded(dns, recorder) as client:
        with pytest.raises(addresses.AddressRefused, match="127.0.0.1"):
            await client.post(url, content=b"{}")

    assert dns.lookups == ["rebind.example", "rebind.example"]
    assert recorder.requests == []


async def test_the_next_checked_address_is_tried_when_one_does_not_answer() -> None:
    dns = FakeDNS({"hooks.example": [["8.8.8.8", "8.8.4.4"]]})
    recorder = Recorder(refuse={"8.8.8.8"})

    async with _guarded(dns, recorder) as client:
        response = await client.post("https://hooks.example/x", content=b"{}")

    assert response.status_code == 200
    assert [request.url.host for request in recorder.requests] == ["8.8.4.4"]


@dataclass
class Listener:
    """A real TCP server on 127.0.0.1 that counts who connects."""

    port: int = 0
    connections: int = 0


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    found = Listener()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.connections += 1
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


async def test_a_real_connection_to_localhost_is_refused_when_private_is_not_allowed(
    listener: Listener,
) -> None:
    async with addresses.http_client(STRICT) as client:
        with pytest.raises(addresses.AddressRefused, match="127.0.0.1"):
            await client.post(f"http://localhost:{listener.port}/hook", content=b"{}")
    async with addresses.http_client(OPEN) as client:  # the same address, allowed
        assert (await client.post(f"http://localhost:{listener.port}/hook")).status_code == 200

    assert listener.connections == 1


async def test_a_delivery_to_an_address_refused_since_creation_fails_unsent(
    settings: Settings, db: None, listener: Listener
) -> None:
    # Created while private addresses were allowed; the setting changed since.
    await service.create(
        viewer=ADMIN, url=f"http://localhost:{listener.port}/hook",
        events=["CONTENT_PUBLISHED"], settings=_settings(True, settings),
    )  # fmt: skip
    async with in_transaction() as connection:
        event = await outbox.record(
            type=outbox.EventType.PUBLISHED, content_id=1, payload={}, connection=connection
        )
        await deliveries.enqueue(event=event, content={"id": "x"}, connection=connection)
    strict = _settings(False, settings)

    async with addresses.http_client(strict) as client:
        assert await deliveries.deliver_due(client=client, settings=strict) == 1

    row = await WebhookDelivery.get()
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 1, None)
    assert row.last_error is not None and "127.0.0.1" in row.last_error
    assert listener.connections == 0


def test_the_delivery_client_follows_no_redirects_and_ignores_proxy_settings() -> None:
    for settings in (STRICT, OPEN):
        client = addresses.http_client(settings)
        assert client.follow_redirects is False
        assert client.trust_env is False
        assert client.timeout.read == 10
