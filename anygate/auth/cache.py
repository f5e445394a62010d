"""An in-memory key cache: requests never wait on the database for a known key.

A miss is looked up once (and remembered briefly when unknown); a background refresh picks up keys
changed by any process (revocation included) every few seconds through an index on `updated_at`.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.auth.keys import KeyRecord, changed_since, find_by_hash, hash_key
from anygate.periodic import Periodic

REFRESH_SECONDS = 2.0
_COMMIT_SLACK_SECONDS = 10.0  # re-read this far back, for writes that committed after their timestamp
_NEGATIVE_TTL_SECONDS = 2.0
_NEGATIVE_MAX = 10_000


class KeyCache:
    """Maps plaintext keys to records through their hashes, with cross-process invalidation."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._by_hash: dict[str, KeyRecord] = {}
        self._digests: dict[str, str] = {}  # keys found once -> their hash, so a known key is not hashed again
        self._unknown: dict[str, float] = {}
        self._last_refresh = time.time()
        self._refresher = Periodic(self.refresh, REFRESH_SECONDS, "key cache refresh")

    async def lookup(self, key: str) -> KeyRecord | None:
        """The record of `key`, or None when no such key exists (revoked keys are returned as such)."""
        digest = self._digests.get(key)
        if digest is not None:
            return self._by_hash[digest]
        digest = hash_key(key)
        record = self._by_hash.get(digest)
        if record is not None:
            self._digests[key] = digest
            return record
        now = time.monotonic()
        if self._unknown.get(digest, 0.0) > now:
            return None
        record = await find_by_hash(self._engine, digest)
        if record is None:
            if len(self._unknown) >= _NEGATIVE_MAX:
                self._unknown.clear()
            self._unknown[digest] = now + _NEGATIVE_TTL_SECONDS
            return None
        self._by_hash[digest] = record
        self._digests[key] = digest
        return record

    async def refresh(self) -> None:
        """Reload every key changed since the last refresh."""
        started = time.time()
        for digest, record in await changed_since(self._engine, self._last_refresh - _COMMIT_SLACK_SECONDS):
            self._unknown.pop(digest, None)
            if digest in self._by_hash:
                self._by_hash[digest] = record
        self._last_refresh = started

    def start(self) -> None:
        """Start the background refresh."""
        self._refresher.start()

    async def stop(self) -> None:
        """Stop the background refresh."""
        await self._refresher.stop()
