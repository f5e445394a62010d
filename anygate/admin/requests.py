"""GET /admin/v1/requests: the latest calls, as their usage records say (newest first)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from anygate.core.errors import invalid_request
from anygate.server.call import Call
from anygate.store.tables import UsageRecord

_SHOWN = ("created_at", "request_id", "key_id", "family", "public_model", "provider", "upstream_model", "status",
          "latency_ms", "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "cost_usd", "attempts",
          "estimated")


async def recent_requests(request: web.Request, call: Call) -> web.Response:
    """Up to `limit` (50 by default, 500 at most) latest calls, optionally of one `key_id`."""
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise invalid_request("'limit' must be an integer", "limit") from None
    query = select(*(getattr(UsageRecord, name) for name in _SHOWN)).order_by(UsageRecord.id.desc()).limit(min(max(limit, 1), 500))
    if key_id := request.query.get("key_id"):
        query = query.where(UsageRecord.key_id == key_id)
    async with call.gateway.engine.connect() as conn:
        rows = list(await conn.execute(query))
    return web.json_response({"object": "list", "data": [dict(zip(_SHOWN, row, strict=True)) for row in rows]})
