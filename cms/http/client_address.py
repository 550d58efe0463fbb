"""Who is on the other end of a connection: the address limits are counted by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["client_address"]


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's IP address from an ASGI scope ("unknown" when the server gave none)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
