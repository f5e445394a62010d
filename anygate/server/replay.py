"""The replay cache of this process backed by the database: what a translated turn's tool calls need
is stored before the turn ends, and looked up for ids this process has not seen."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from anygate.core.chat import ChatRequest
from anygate.core.replay_cache import Entry
from anygate.server.call import Call
from anygate.store.replay import load_entries, save_entries

log = logging.getLogger(__name__)


async def share(call: Call, entries: list[Entry]) -> None:
    """Store a turn's entries for every worker and instance; when the database fails, this process
    still has them (logged)."""
    if not entries:
        return
    try:
        await save_entries(call.gateway.engine, entries)
    except (SQLAlchemyError, OSError):
        log.warning("replay entries kept in this process only: the database did not take them", exc_info=True)


async def restore(call: Call, request: ChatRequest) -> None:
    """Put back the signatures and thinking of the request's replayed tool calls, asking the database
    about ids this process has not seen (once each)."""
    replay = call.gateway.replay
    unknown = replay.unknown(request)
    if unknown:
        try:
            replay.put(await load_entries(call.gateway.engine, unknown))
            replay.checked(unknown)
        except (SQLAlchemyError, OSError):
            log.warning("replay entries not looked up: the database did not answer", exc_info=True)
    replay.restore(request)
