"""API tokens, roles and the who-may-do-what policy.

Import the modules and qualify by module: `from cms.auth import policy`, then
`policy.require(viewer, policy.Action.PUBLISH)`.
"""

from __future__ import annotations

from cms.auth import policy, roles, tokens, viewer

__all__ = ["policy", "roles", "tokens", "viewer"]
