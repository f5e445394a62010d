"""Deleting usage records, stored responses and replay entries older than their retention, in small
batches, so that neither a long transaction nor a large result ever builds up."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.config import RetentionConfig
from anygate.periodic import Periodic
from anygate.store.tables import ReplayEntry, StoredResponse, UsageRecord

PURGE_SECONDS = 3600.0  # how often an instance looks for expired records (and once at start)
BATCH = 5000  # rows deleted per transaction
_Expiring = type[UsageRecord] | type[StoredResponse] | type[ReplayEntry]


class Retention:
    """Purges expired records at start and then hourly, while the gateway runs."""

    def __init__(self, engine: AsyncEngine, config: RetentionConfig, batch: int = BATCH) -> None:
        self._engine = engine
        kept: list[tuple[_Expiring, float | None]] = [
            (UsageRecord, config.usage_days),
            (StoredResponse, config.responses_days),
            (ReplayEntry, config.replay_days),
        ]
        self._policies = [(table, days * 86400.0) for table, days in kept if days is not None]
        self._batch = batch
        self._periodic = Periodic(self.purge, PURGE_SECONDS, "purging expired records")

    def start(self) -> None:
        """Purge now in the background, then every PURGE_SECONDS."""
        if self._policies:
            self._periodic.start()
            self._periodic.due(time.time())

    async def stop(self) -> None:
        """Stop purging (a batch in progress is rolled back)."""
        await self._periodic.stop()

    async def purge(self, now: float | None = None) -> int:
        """Delete every expired record, a batch per transaction; how many went."""
        now = time.time() if now is None else now
        deleted = 0
        for table, seconds in self._policies:
            deleted += await self._purge_table(table, now - seconds)
        return deleted

    async def _purge_table(self, table: _Expiring, before: float) -> int:
        expired = select(table.id).where(table.created_at < before).limit(self._batch).scalar_subquery()
        deleted = 0
        while True:
            async with self._engine.begin() as conn:
                count = (await conn.execute(delete(table).where(table.id.in_(expired)))).rowcount
            deleted += count
            if count < self._batch:
                return deleted
