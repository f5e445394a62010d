"""The usage queue: records are appended in memory and written in batches by one background task. In
sync mode a call can wait until its record is written (the writer then flushes at once, and the calls
ending meanwhile share one transaction)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from operator import itemgetter
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.metering.budget import Hold, release
from anygate.store.tables import ApiKey, UsageRecord

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
BATCH_MAX = 1000
SYNC_WAIT_SECONDS = 10.0  # a call waits this long for its record at most, then answers (the record stays queued)
COLUMNS = tuple(c.name for c in UsageRecord.__table__.columns if c.name != "id")
_VALUES = itemgetter(*COLUMNS)  # a row's values in COLUMNS order


def _insert_sql(paramstyle: str) -> str:
    """A plain INSERT in the driver's own parameter style: executemany on it skips SQLAlchemy's
    per-row parameter processing, which otherwise costs the event loop more than the insert."""
    if paramstyle == "qmark":
        marks = ["?"] * len(COLUMNS)
    elif paramstyle == "numeric_dollar":
        marks = [f"${i}" for i in range(1, len(COLUMNS) + 1)]
    else:
        marks = ["%s"] * len(COLUMNS)
    return f"INSERT INTO {UsageRecord.__tablename__} ({', '.join(COLUMNS)}) VALUES ({', '.join(marks)})"


class UsageWriter:
    """Buffers usage rows and writes them in batches; `close` writes whatever is left."""

    def __init__(self, engine: AsyncEngine, sync: bool = False) -> None:
        self._engine = engine
        self.sync = sync  # calls wait for their records (`written`)
        self._waiting: list[asyncio.Future[None]] = []  # calls waiting for the records queued before them
        self._sql = _insert_sql(engine.dialect.paramstyle)
        self._pending: list[dict[str, Any]] = []
        self._releases: list[Hold] = []  # holds of calls that recorded no usage, given back with the next batch
        self.unflushed_cost: dict[str, float] = {}  # key id -> cost queued but not yet in the database
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def add(self, row: dict[str, Any], hold: Hold | None = None) -> None:
        """Queue one usage row (the columns of UsageRecord, without `id`), and the budget hold its cost
        settles, released in the same transaction. Never blocks."""
        if hold is not None:
            row = {**row, "hold": hold}  # not a column: released by the transaction that writes the row
        self._pending.append(row)
        if row["cost_usd"]:
            self.unflushed_cost[row["key_id"]] = self.unflushed_cost.get(row["key_id"], 0.0) + row["cost_usd"]
        if len(self._pending) >= BATCH_MAX:
            self._wake.set()

    async def written(self) -> None:
        """Wait until every record queued so far is in the database (at most SYNC_WAIT_SECONDS: the
        answer is not held hostage to a database outage; its record stays queued and is retried)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), SYNC_WAIT_SECONDS)
        except TimeoutError:
            log.warning("a usage record was not written within %.0f s; answering anyway", SYNC_WAIT_SECONDS)

    def release(self, hold: Hold) -> None:
        """Queue the release of a budget hold whose call cost nothing."""
        self._releases.append(hold)

    def start(self) -> None:
        """Start the background writer."""
        self._task = asyncio.create_task(self._run())

    async def flush(self) -> None:
        """Write the rows queued so far, and add their cost to each key's spend in the same transaction;
        rows that fail to write are put back for the next try. Rows queued while it writes wait for
        the next flush: chasing them would turn the batches into a stream of tiny transactions."""
        queued, self._pending = self._pending, []
        releases, self._releases = self._releases, []
        waiting, self._waiting = self._waiting, []
        if not queued and releases:
            queued_batches: list[list[dict[str, Any]]] = [[]]
        else:
            queued_batches = [queued[start : start + BATCH_MAX] for start in range(0, len(queued), BATCH_MAX)]
        for number, batch in enumerate(queued_batches):
            try:
                await self._write(batch, releases if number == 0 else [])
            except Exception:
                self._pending[:0] = [row for later in queued_batches[number:] for row in later]
                if number == 0:
                    self._releases[:0] = releases
                self._waiting[:0] = waiting
                raise
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)

    async def _write(self, batch: list[dict[str, Any]], releases: list[Hold]) -> None:
        costs: dict[str, float] = {}
        for row in batch:
            if row["cost_usd"]:
                costs[row["key_id"]] = costs.get(row["key_id"], 0.0) + row["cost_usd"]
        async with self._engine.begin() as conn:
            if batch:
                await conn.exec_driver_sql(self._sql, [_VALUES(row) for row in batch])
            for key_id, cost in costs.items():
                await conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(spent_usd=ApiKey.spent_usd + cost))
            await release(conn, releases + [row["hold"] for row in batch if "hold" in row])
        for key_id, cost in costs.items():
            left = self.unflushed_cost.get(key_id, 0.0) - cost
            if left > 1e-12:
                self.unflushed_cost[key_id] = left
            else:
                self.unflushed_cost.pop(key_id, None)

    async def close(self) -> None:
        """Stop the background writer and write everything still queued.

        The writer is asked to stop, not cancelled: a cancelled insert could lose its batch, or
        leave it unknown whether it was written.
        """
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
        while self._pending or self._releases or self._waiting:
            await self.flush()

    async def _run(self) -> None:
        while not self._stopping:
            if not self._waiting:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.warning("writing %d usage records failed; will retry", len(self._pending), exc_info=True)
                await asyncio.sleep(FLUSH_SECONDS)
