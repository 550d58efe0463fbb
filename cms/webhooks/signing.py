"""Standard Webhooks signatures (https://www.standardwebhooks.com), so that receivers
verify deliveries with that specification's libraries (`standardwebhooks`, Svix's).

The secret is "whsec_" + base64 of 32 random bytes. A signature is
"v1," + base64(HMAC-SHA256(key, "ID.TIMESTAMP.BODY")) where the key is the base64-decoded
part of the secret after "whsec_", ID is the `webhook-id` header (the same on every retry
of one delivery) and TIMESTAMP the `webhook-timestamp` header (Unix seconds of this attempt).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

__all__ = ["SECRET_BYTES", "SECRET_PREFIX", "USER_AGENT", "headers", "new_secret", "sign"]

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Newsdesk-Webhooks/0.1"


def new_secret() -> str:
    """A fresh signing secret: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: "v1,BASE64" over "ID.TIMESTAMP.BODY"."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(
    *, secret: str, message_id: str, timestamp: int, body: bytes, event_type: str
) -> dict[str, str]:
    """Every header of one delivery attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
        "X-Newsdesk-Event": event_type,
        "user-agent": USER_AGENT,
    }
