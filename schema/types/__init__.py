"""GraphQL types, one module per family."""

__all__: list[str] = []
