"""The admin API's keys and usage: create, list, show, change limits, revoke; totals by key, model and day."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from anygate.auth.keys import (
    EDITABLE,
    MAX_LIMIT,
    create_key,
    expiry_problem,
    get_key,
    key_json,
    limit_problem,
    list_keys,
    revoke_key,
    update_key,
)
from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.metering.report import usage_by_day, usage_totals
from anygate.server import web
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.store.tables import ApiKey


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or limit_problem(value)):
        raise invalid_request(f"'{name}' must be an integer between 1 and {MAX_LIMIT}, or null", name)
    return value


def parse_time(value: Any, name: str) -> float | None:
    """An ISO 8601 time (UTC when it names no zone) as a timestamp; None for None; 400 otherwise."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_request(f"'{name}' must be an ISO 8601 time, e.g. 2026-12-31T23:59:00Z", name) from None
    stamp = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    problem = expiry_problem(stamp)
    if problem:
        raise invalid_request(f"'{name}' {problem}", name)
    return stamp


def _fields(body: dict[str, Any], configured: Collection[str]) -> dict[str, Any]:
    """The editable fields present in `body`, checked (`models` against the `configured` ones)."""
    unknown = set(body) - set(EDITABLE)
    if unknown:
        raise invalid_request(f"unknown fields: {', '.join(sorted(unknown))}; a key has {', '.join(EDITABLE)}")
    fields: dict[str, Any] = {}
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"]:
            raise invalid_request("'name' must be a non-empty string", "name")
        fields["name"] = body["name"]
    if "models" in body:
        models = body["models"]
        if models is not None and (not isinstance(models, list) or not all(isinstance(m, str) for m in models)):
            raise invalid_request("'models' must be an array of model ids or null", "models")
        unconfigured = [m for m in models or [] if m not in configured]
        if unconfigured:
            verb = "is" if len(unconfigured) == 1 else "are"
            raise invalid_request(f"'models': {', '.join(unconfigured)} {verb} not configured here", "models")
        fields["models"] = models
    for name in ("rpm", "tpm", "rpd", "tpd", "max_concurrency"):
        if name in body:
            fields[name] = _positive_int(body, name)
    if "budget_usd" in body:
        budget = body["budget_usd"]
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float) or budget < 0):
            raise invalid_request("'budget_usd' must be a non-negative number or null", "budget_usd")
        fields["budget_usd"] = budget
    if "expires_at" in body:
        fields["expires_at"] = parse_time(body["expires_at"], "expires_at")
    return fields


def _not_found(key_id: str) -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, f"No key with id '{key_id}'")


async def list_all(_: web.Request, call: Call) -> web.Response:
    """Every key, oldest first, with what it has spent and how many of its calls are being answered now
    (by this instance's workers)."""
    gateway = call.gateway
    metrics = await gateway.all_metrics()
    async with gateway.engine.connect() as conn:
        spent: dict[str, float] = {key_id: amount for key_id, amount in await conn.execute(select(ApiKey.id, ApiKey.spent_usd))}
    data = [
        {
            **key_json(r),
            "spent_usd": float(spent.get(r.id) or 0.0) + gateway.usage.unflushed_cost.get(r.id, 0.0),
            "in_flight": metrics.in_flight.get((r.id,), 0),
        }
        for r in await list_keys(gateway.engine)
    ]
    return web.json_response({"object": "list", "data": data})


async def create(request: web.Request, call: Call) -> web.Response:
    """A new key, shown once with its webhook secret."""
    fields = _fields(await read_json_object(request), call.gateway.settings.models)
    if "name" not in fields:
        raise invalid_request("'name' is required", "name")
    key, record = await create_key(call.gateway.engine, **fields)
    return web.json_response({"key": key, **key_json(record), "webhook_secret": record.webhook_secret}, status=201)


async def show(request: web.Request, call: Call) -> web.Response:
    """One key."""
    record = await get_key(call.gateway.engine, request.match_info["key_id"])
    if record is None:
        raise _not_found(request.match_info["key_id"])
    return web.json_response(key_json(record))


async def change(request: web.Request, call: Call) -> web.Response:
    """Change a key's name, allowlist, limits, budget or expiry."""
    record = await update_key(
        call.gateway.engine, request.match_info["key_id"], _fields(await read_json_object(request), call.gateway.settings.models)
    )
    if record is None:
        raise _not_found(request.match_info["key_id"])
    return web.json_response(key_json(record))


async def revoke(request: web.Request, call: Call) -> web.Response:
    """Revoke a key (running gateways refuse it within seconds)."""
    key_id = request.match_info["key_id"]
    if not await revoke_key(call.gateway.engine, key_id):
        raise _not_found(key_id)
    record = await get_key(call.gateway.engine, key_id)
    assert record is not None
    return web.json_response(key_json(record))


async def usage(request: web.Request, call: Call) -> web.Response:
    """Usage and spend: `?group=model` (by key and model, the default) or `?group=day`; `?key_id=`, `?since=`."""
    key_id = request.query.get("key_id")
    since = parse_time(request.query.get("since"), "since")
    group = request.query.get("group", "model")
    if group == "model":
        totals: list[Any] = await usage_totals(call.gateway.engine, key_id=key_id, since=since)
    elif group == "day":
        totals = await usage_by_day(call.gateway.engine, key_id=key_id, since=since)
    else:
        raise invalid_request("'group' must be model or day", "group")
    return web.json_response({"object": "list", "data": [asdict(t) for t in totals]})
