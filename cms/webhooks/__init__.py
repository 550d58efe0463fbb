"""Webhooks: signed deliveries of content events to receivers that admins register."""

from cms.webhooks import addresses, deliveries, service, signing

__all__ = ["addresses", "deliveries", "service", "signing"]
