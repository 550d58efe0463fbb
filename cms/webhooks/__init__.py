"""Webhooks: signed deliveries of content events to receivers that admins register."""

from cms.webhooks import addresses, courier, deliveries, records, service, signing

__all__ = ["addresses", "courier", "deliveries", "records", "service", "signing"]
