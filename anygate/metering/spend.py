"""Spend per key for budgets: the database's total (every instance's flushed usage) plus this
instance's usage not yet written, refreshed every few seconds, for a quick refusal of a key whose
budget is used up (the reservation in `budget` is what holds a budget under parallel calls). The
refresh also releases budget holds left by instances that died."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.metering.budget import release_expired
from anygate.metering.writer import UsageWriter
from anygate.periodic import Periodic
from anygate.store.tables import ApiKey

REFRESH_SECONDS = 2.0


class SpendTracker:
    """Knows how much each key with a budget has spent."""

    def __init__(self, engine: AsyncEngine, writer: UsageWriter) -> None:
        self._engine = engine
        self._writer = writer
        self._stored: dict[str, float] = {}
        self._refresher = Periodic(self.refresh, REFRESH_SECONDS, "spend refresh")

    def spent(self, key_id: str) -> float:
        """USD spent by the key, as far as this instance knows (at most a few seconds behind others)."""
        return self._stored.get(key_id, 0.0) + self._writer.unflushed_cost.get(key_id, 0.0)

    async def refresh(self) -> None:
        """Reload the stored spend of every key that has a budget, and release expired holds."""
        await release_expired(self._engine)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(ApiKey.id, ApiKey.spent_usd).where(ApiKey.budget_usd.is_not(None)))).all()
        self._stored = {row.id: float(row.spent_usd) for row in rows}

    async def start(self) -> None:
        """Load once, then keep refreshing in the background."""
        await self.refresh()
        self._refresher.start()

    async def stop(self) -> None:
        """Stop refreshing."""
        await self._refresher.stop()
