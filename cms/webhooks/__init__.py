"""Webhooks: signed deliveries of content events to receivers that admins register."""

from cms.webhooks import addresses, deliveries, records, service, signing

__all__ = ["addresses", "deliveries", "records", "service", "signing"]
