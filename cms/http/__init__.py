"""The web process: the ASGI app and its routes."""

__all__: list[str] = []
