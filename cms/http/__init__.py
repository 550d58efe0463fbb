"""The web process: the ASGI app and its routes."""
