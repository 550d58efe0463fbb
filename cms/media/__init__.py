"""Uploads: image inspection (Pillow), where the bytes are stored, and the upload service."""

from cms.media import images, png, service, storage

__all__ = ["images", "png", "service", "storage"]
