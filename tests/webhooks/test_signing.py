"""cms.webhooks.signing: what a receiver checks with the Standard Webhooks library."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook as Receiver
from standardwebhooks.webhooks import WebhookVerificationError

from cms.webhooks import signing

BODY = (
    b'{"data":{"content":{"title":"Caf\xc3\xa9 reopens"}},"id":"msg_1","type":"CONTENT_PUBLISHED"}'
)


def _headers(secret: str, body: bytes = BODY, timestamp: int | None = None) -> dict[str, str]:
    return signing.headers(
        secret=secret,
        message_id="msg_1",
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=body,
        event_type="CONTENT_PUBLISHED",
    )


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secret = signing.new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert signing.new_secret() != secret


def test_the_standard_webhooks_library_verifies_a_delivery() -> None:
    secret = signing.new_secret()

    payload = Receiver(secret).verify(BODY, _headers(secret))

    assert payload["data"]["content"]["title"] == "Café reopens"


def test_headers_name_the_delivery_and_the_event() -> None:
    headers = _headers(signing.new_secret(), timestamp=1_700_000_000)

    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["X-Newsdesk-Event"] == "CONTENT_PUBLISHED"
    assert headers["user-agent"] == "Newsdesk-Webhooks/0.1"


def test_the_signature_matches_the_specification_by_hand() -> None:
    # The example of the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = signing.sign(
        secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda headers, body: (headers, body + b" "), id="body"),
        pytest.param(
            lambda headers, body: ({**headers, "webhook-id": "msg_2"}, body), id="webhook-id"
        ),
        pytest.param(
            lambda headers, body: (
                {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)},
                body,
            ),
            id="timestamp",
        ),
    ],
)
def test_a_tampered_delivery_fails_verification(tamper: object) -> None:
    secret = signing.new_secret()
    headers, body = tamper(_headers(secret), BODY)  # type: ignore[operator]

    with pytest.raises(WebhookVerificationError):
        Receiver(secret).verify(body, headers)


def test_another_secret_fails_verification() -> None:
    with pytest.raises(WebhookVerificationError):
        Receiver(signing.new_secret()).verify(BODY, _headers(signing.new_secret()))


def test_an_old_timestamp_fails_verification() -> None:
    secret = signing.new_secret()
    headers = _headers(secret, timestamp=int(time.time()) - 3600)

    with pytest.raises(WebhookVerificationError, match="too old"):
        Receiver(secret).verify(BODY, headers)
