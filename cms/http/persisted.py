"""Automatic persisted queries (Apollo's protocol), and an allow-list mode.

A client sends `extensions.persistedQuery.sha256Hash` without the query; if the server
knows the hash it runs the stored document, else it answers PersistedQueryNotFound and the
client sends query and hash together once. Short GET URLs then let a CDN cache the feed.

With CMS_PERSISTED_ONLY=true anonymous requests may only run documents already known
(loaded from CMS_PERSISTED_QUERIES_FILE, a JSON object of hash -> query); new ones are not
registered. Token holders (editors, integrations) may still send any document.

The store is Redis with CMS_REDIS_URL, and this worker's memory while Redis is unreachable
(`cms.cache.fallback`): a hash registered during an outage is forgotten when Redis comes
back, and its client, answered PersistedQueryNotFound, registers it again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from strawberry.http import GraphQLRequestData

from cms.cache.stores import Store
from cms.config import Settings

__all__ = ["PersistedQueries", "PersistedQueryError", "sha256"]

_PREFIX = "apq:"


class PersistedQueryError(Exception):
    """Answered as a GraphQL error with `extensions.code` = `code`."""

    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, dict):
        return None
    if persisted.get("version", 1) != 1:
        raise PersistedQueryError("unsupported persistedQuery version", "PERSISTED_QUERY_INVALID")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or len(value) != 64:
        raise PersistedQueryError("persistedQuery needs a sha256Hash", "PERSISTED_QUERY_INVALID")
    return value.lower()


class PersistedQueries:
    def __init__(self, store: Store, *, persisted_only: bool, manifest: dict[str, str]) -> None:
        self.store = store
        self.persisted_only = persisted_only
        self.manifest = {key.lower(): query for key, query in manifest.items()}

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> PersistedQueries:
        manifest: dict[str, str] = {}
        if settings.persisted_queries_file:
            loaded = json.loads(Path(settings.persisted_queries_file).read_text())
            manifest = {str(key): str(value) for key, value in loaded.items()}
            for key, query in manifest.items():
                if sha256(query) != key.lower():
                    raise ValueError(f"persisted query {key[:12]}… does not match its hash")
        return cls(store, persisted_only=settings.persisted_only, manifest=manifest)

    async def lookup(self, query_hash: str) -> str | None:
        if query_hash in self.manifest:
            return self.manifest[query_hash]
        if self.persisted_only:
            return None
        stored = await self.store.get(_PREFIX + query_hash)
        return stored.decode() if stored is not None else None

    async def resolve(self, data: GraphQLRequestData, *, anonymous: bool) -> GraphQLRequestData:
        """The request with its document filled in from the store, or an error."""
        query_hash = _requested_hash(data.extensions)
        if query_hash is None:
            if self.persisted_only and anonymous and data.query is not None:
                raise PersistedQueryError(
                    "only persisted queries are accepted here", "PERSISTED_QUERY_REQUIRED", 400
                )
            return data
        if data.query is None:
            query = await self.lookup(query_hash)
            if query is None:
                raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            data.query = query
            return data
        if sha256(data.query) != query_hash:
            raise PersistedQueryError(
                "provided sha256Hash does not match the query", "PERSISTED_QUERY_INVALID", 400
            )
        if self.persisted_only and anonymous and query_hash not in self.manifest:
            raise PersistedQueryError(
                "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"
            )  # allow-list mode: no registration
        if not self.persisted_only:
            await self.store.set(_PREFIX + query_hash, data.query.encode())
        return data
