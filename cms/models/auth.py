from __future__ import annotations

from tortoise import fields

from cms.models.base import TimestampedModel

__all__ = ["ApiToken", "SigningKey"]


class ApiToken(TimestampedModel):
    # An API token. Only a hash of the secret is stored; the prefix helps people tell tokens apart.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    role = fields.CharField(max_length=16)
    secret_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class SigningKey(TimestampedModel):
    # A server-side key that signs short-lived links (preview links), made once on first
    # use and shared by every worker through the database; never shown through the API.

    name = fields.CharField(max_length=50, primary_key=True)
    secret = fields.CharField(max_length=128)

    class Meta:
        table = "signing_key"
