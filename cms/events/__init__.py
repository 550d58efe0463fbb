"""Content events: recorded in the outbox with each change, fanned out later."""

from cms.events import backlog, outbox

__all__ = ["backlog", "outbox"]
