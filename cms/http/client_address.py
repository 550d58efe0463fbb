"""Who is on the other end of a request: the client's address, behind trusted proxies too.

Without trusted proxies (`CMS_TRUSTED_PROXIES` empty) the client is the connection's peer,
and X-Forwarded-For is ignored: anyone can write it. When the peer is a trusted proxy, the
client is the right-most address in X-Forwarded-For that is not a trusted proxy: each
proxy appends the address it was connected from, so the addresses right of the client's
were written by our own proxies, and whatever is left of it the client may have made up.
An entry that is not an address (`unknown`, garbage) ends the walk: the client is then
the nearest proxy that wrote one, never a value the client could choose.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import Scope

__all__ = ["Networks", "client_address"]

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
_UNKNOWN = "unknown"  # an ASGI server that does not know the peer (a Unix socket)


def client_address(scope: Scope, trusted: Networks) -> str:
    """The client's address for an HTTP or WebSocket scope; see the module's docstring."""
    client = scope.get("client")
    peer = str(client[0]) if client else _UNKNOWN
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = [
        value for name, value in scope["headers"] if name == b"x-forwarded-for"
    ]  # several headers are one list, in order (RFC 9110, 5.3)
    address = peer
    for entry in reversed(b",".join(forwarded).split(b",")):
        candidate = _address(entry)
        if candidate is None:
            break  # not an address: the nearest proxy's own stays the client
        address = candidate
        if not _is_trusted(candidate, trusted):
            break
    return address


@lru_cache(maxsize=4096)
def _address(entry: bytes) -> str | None:
    """An X-Forwarded-For entry as a normalised address, or None."""
    text = entry.strip().decode("latin-1")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _is_trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # an IPv4 peer of a dual-stack socket
    return any(ip in network for network in trusted)
