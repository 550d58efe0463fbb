"""Content events: recorded in the outbox with each change, fanned out later."""

from cms.events import outbox

__all__ = ["outbox"]
