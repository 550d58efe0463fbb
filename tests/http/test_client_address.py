"""cms.http.client_address: the connection's peer, or, from a trusted proxy, the right-most
X-Forwarded-For address that is not one of ours."""

from __future__ import annotations

from typing import Any

import pytest

from cms.config import Settings
from cms.http.client_address import client_address

PROXIES = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.10, fd00::/8").trusted_proxy_networks


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {
        "type": "http",
        "headers": [(b"host", b"news.example"), *headers],
        "client": (peer, 51000) if peer else None,
    }


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address(scope("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"
    assert client_address(scope(None), ()) == "unknown"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client() -> None:
    assert client_address(scope("203.0.113.9", "198.51.100.1"), PROXIES) == "203.0.113.9"


def test_an_ipv4_proxy_seen_through_a_dual_stack_socket_is_still_trusted() -> None:
    assert client_address(scope("::ffff:10.1.1.1", "198.51.100.1"), PROXIES) == "198.51.100.1"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        (["198.51.100.1"], "198.51.100.1"),
        (["6.6.6.6, 198.51.100.1, 10.2.3.4"], "198.51.100.1"),  # left of it: the client's say
        (["6.6.6.6", "198.51.100.1, 10.2.3.4"], "198.51.100.1"),  # two headers are one list
        (["  198.51.100.1 ,10.2.3.4  "], "198.51.100.1"),
        (["2001:DB8::0:1, fd00::5"], "2001:db8::1"),  # normalised
        (["10.2.3.4, 10.9.9.9"], "10.2.3.4"),  # every hop ours: the farthest one
        ([], "192.0.2.10"),  # no header: the proxy itself
        (["198.51.100.1, unknown, 10.2.3.4"], "10.2.3.4"),  # not an address: stop there
        (["garbage"], "192.0.2.10"),
    ],
)
def test_from_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    forwarded: list[str], client: str
) -> None:
    assert client_address(scope("192.0.2.10", *forwarded), PROXIES) == client
