"""GET /admin/v1/providers: every configured provider, its targets and their circuit breakers, and how
its calls went over the last HEALTH_WINDOW_SECONDS (from the usage records): its health at a glance."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import case, func, select

from anygate.providers import adapters
from anygate.server import web
from anygate.server.call import Call
from anygate.store.tables import UsageRecord

HEALTH_WINDOW_SECONDS = 900
DEGRADED_ERROR_SHARE = 0.2  # a provider this share of whose recent calls failed (5xx) is degraded


async def _recent(call: Call, since: float) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Per provider since `since`: calls, upstream failures and mean latency; and its latest failure."""
    failed = UsageRecord.status >= 500
    totals = (
        select(UsageRecord.provider, func.count(), func.sum(case((failed, 1), else_=0)), func.avg(UsageRecord.latency_ms))
        .where(UsageRecord.created_at >= since)
        .group_by(UsageRecord.provider)
    )
    latest = (
        select(UsageRecord.provider, UsageRecord.created_at, UsageRecord.status, UsageRecord.detail, UsageRecord.request_id)
        .where(UsageRecord.created_at >= since, failed)
        .order_by(UsageRecord.created_at.desc())
        .limit(200)
    )
    async with call.gateway.engine.connect() as conn:
        counts = {
            p: {"requests": n, "failures": int(f or 0), "mean_latency_ms": round(float(ms or 0.0), 1)}
            for p, n, f, ms in await conn.execute(totals)
        }
        errors: dict[str, dict[str, Any]] = {}
        for provider, at, status, detail, request_id in await conn.execute(latest):
            if provider not in errors:
                errors[provider] = {
                    "created_at": at,
                    "status": status,
                    "error": orjson.loads(detail or "{}").get("error"),
                    "request_id": request_id,
                }
    return counts, errors


def _health(available: bool, breakers: list[str], recent: dict[str, Any]) -> str:
    """unavailable (not built), down (every breaker open), degraded (a breaker not closed, or many
    recent failures), or ok."""
    if not available:
        return "unavailable"
    if breakers and all(state == "open" for state in breakers):
        return "down"
    if any(state != "closed" for state in breakers) or recent["failures"] > DEGRADED_ERROR_SHARE * max(recent["requests"], 1):
        return "degraded"
    return "ok"


async def list_providers(_: web.Request, call: Call) -> web.Response:
    """The providers in configuration order: what each serves (its type's capabilities), its health and
    its calls of the last HEALTH_WINDOW_SECONDS; each target with its public model and breaker state."""
    gateway = call.gateway
    targets: dict[str, list[dict[str, Any]]] = {}
    for target in gateway.models.targets():
        targets.setdefault(target.provider.name, []).append(
            {
                "model": target.public_model,
                "upstream_model": target.model,
                "priority": target.priority,
                "weight": target.weight,
                "breaker": {"state": target.breaker.state.value, "failures": target.breaker.failures},
            }
        )
    counts, errors = await _recent(call, time.time() - HEALTH_WINDOW_SECONDS)
    known = adapters()
    data = []
    for name, config in gateway.settings.providers.items():
        recent = {
            "seconds": HEALTH_WINDOW_SECONDS,
            **counts.get(name, {"requests": 0, "failures": 0, "mean_latency_ms": None}),
            "last_failure": errors.get(name),
        }
        mine = targets.get(name, [])
        available = name in gateway.providers or gateway.tasks.models.runs_on(name)
        data.append(
            {
                "name": name,
                "type": config.type,
                "serves": sorted(adapter.capabilities) if (adapter := known.get(config.type)) else [],
                "available": available,
                "health": _health(available, [t["breaker"]["state"] for t in mine], recent),
                "targets": mine,
                "recent": recent,
            }
        )
    return web.json_response({"object": "list", "data": data})
