"""GET /admin/v1/requests: the latest calls, newest first — those that reached an upstream as their
usage records say, and those refused before one did as the workers remember them — filtered by key,
model, provider, family, status and time; GET /admin/v1/requests/{request_id}: one call in detail."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, select

from anygate.admin.keys import parse_time
from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.server import web
from anygate.server.call import Call
from anygate.server.refusals import KEPT
from anygate.store.tables import UsageRecord

_SHOWN = (
    "created_at",
    "request_id",
    "key_id",
    "family",
    "public_model",
    "provider",
    "upstream_model",
    "status",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "cost_usd",
    "attempts",
    "estimated",
    "detail",
)
_STATUS_CLASSES = {
    "1xx": (100, 200),
    "2xx": (200, 300),
    "3xx": (300, 400),
    "4xx": (400, 500),
    "5xx": (500, 600),
    "error": (400, 1000),
    "ok": (0, 400),
}
MAX_LIMIT = 500
DETAIL_HOURS = 24  # how far back a request id is looked for without ?at=


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Which calls to show: every given field must match; status is a [low, high) range."""

    key_id: str | None = None
    model: str | None = None
    provider: str | None = None
    family: str | None = None
    status: tuple[int, int] | None = None
    since: float | None = None
    until: float | None = None
    request_id: str | None = None

    def matches(self, row: dict[str, Any]) -> bool:
        """True when a call (a refusal's fields or a usage row's) passes every filter."""
        return (
            (self.key_id is None or row["key_id"] == self.key_id)
            and (self.model is None or row["public_model"] == self.model)
            and (self.provider is None or row["provider"] == self.provider)
            and (self.family is None or row["family"] == self.family)
            and (self.status is None or self.status[0] <= row["status"] < self.status[1])
            and (self.since is None or row["created_at"] >= self.since)
            and (self.until is None or row["created_at"] < self.until)
            and (self.request_id is None or row["request_id"] == self.request_id)
        )

    def narrow(self, query: Select[Any]) -> Select[Any]:
        """The usage-record query with these filters."""
        column = UsageRecord.__table__.columns
        for name, value in (
            ("key_id", self.key_id),
            ("public_model", self.model),
            ("provider", self.provider),
            ("family", self.family),
            ("request_id", self.request_id),
        ):
            if value is not None:
                query = query.where(column[name] == value)
        if self.status is not None:
            query = query.where(UsageRecord.status >= self.status[0], UsageRecord.status < self.status[1])
        if self.since is not None:
            query = query.where(UsageRecord.created_at >= self.since)
        if self.until is not None:
            query = query.where(UsageRecord.created_at < self.until)
        return query


def _status(value: str | None) -> tuple[int, int] | None:
    if value is None or value == "":
        return None
    if value in _STATUS_CLASSES:
        return _STATUS_CLASSES[value]
    if value.isdigit() and 100 <= int(value) <= 999:
        return int(value), int(value) + 1
    raise invalid_request("'status' must be an HTTP status (e.g. 429), a class (2xx, 4xx, 5xx), error or ok", "status")


def request_filter(query: Any) -> RequestFilter:
    """The filters of a `?key_id=&model=&provider=&family=&status=&since=&until=` query (empty ones ignored)."""
    given = {name: query.get(name) or None for name in ("key_id", "model", "provider", "family")}
    return RequestFilter(
        **given,
        status=_status(query.get("status")),
        since=parse_time(query.get("since") or None, "since"),
        until=parse_time(query.get("until") or None, "until"),
    )


def _usage_call(row: Any) -> dict[str, Any]:
    call = dict(zip(_SHOWN, row, strict=True))
    detail = orjson.loads(call.pop("detail") or "{}")
    # a plain call keeps no detail: it waited on its upstream for all but the gateway's share of its time
    call["upstream_ms"] = detail.get("upstream_ms")
    call["first_byte_ms"] = detail.get("first_byte_ms")
    call["error"] = detail.get("error")
    call["failures"] = detail.get("failures", [])
    call["metered"] = True
    return call


def _refused_call(refusal: dict[str, Any]) -> dict[str, Any]:
    """A refusal in the shape of a usage record's call: nothing reached an upstream, nothing was spent."""
    empty: dict[str, Any] = {
        "provider": "",
        "upstream_model": "",
        "upstream_ms": None,
        "first_byte_ms": None,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_tokens": 0,
        "cache_write_tokens": 0,
        "cost_usd": 0.0,
        "attempts": 0,
        "estimated": False,
        "failures": [],
    }
    return {**empty, **refusal, "metered": False}


async def find_calls(call: Call, wanted: RequestFilter, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` calls that pass `wanted`, metered and refused together."""
    query = (
        wanted.narrow(select(*(getattr(UsageRecord, name) for name in _SHOWN)))
        .order_by(UsageRecord.created_at.desc())
        .limit(limit)
    )
    async with call.gateway.engine.connect() as conn:
        metered = [_usage_call(row) for row in await conn.execute(query)]
    refused = [c for c in map(_refused_call, await call.gateway.refusals.latest()) if wanted.matches(c)]
    return sorted(metered + refused, key=lambda c: c["created_at"], reverse=True)[:limit]


async def recent_requests(request: web.Request, call: Call) -> web.Response:
    """Up to `limit` (50 by default, 500 at most) latest calls that pass the query's filters."""
    try:
        limit = min(max(int(request.query.get("limit", "50")), 1), MAX_LIMIT)
    except ValueError:
        raise invalid_request("'limit' must be an integer", "limit") from None
    calls = await find_calls(call, request_filter(request.query), limit)
    return web.json_response({"object": "list", "data": calls})


async def request_detail(request: web.Request, call: Call) -> web.Response:
    """The newest call with this request id: timings, attempts and the failed ones, tokens, cost, error.
    Looked up by time (request ids are not indexed, to keep every insert cheap): around `?at=` (the
    call's `created_at`, as the list gives it), else over the last DETAIL_HOURS hours."""
    request_id = request.match_info["request_id"]
    at = request.query.get("at")
    if at:
        try:
            moment = float(at)
        except ValueError:
            raise invalid_request("'at' must be the call's created_at (seconds since 1970)", "at") from None
        window = RequestFilter(request_id=request_id, since=moment - 60, until=moment + 60)
    else:
        window = RequestFilter(request_id=request_id, since=time.time() - DETAIL_HOURS * 3600)
    found = await find_calls(call, window, 1)
    if not found:
        raise GatewayError(
            ErrorKind.NOT_FOUND,
            f"No call with request id '{request_id}' is on record {'around ?at=' + at if at else f'in the last {DETAIL_HOURS} hours (pass ?at= for an older one)'};"
            f" of calls refused before reaching an upstream, each worker keeps the latest {KEPT}",
        )
    return web.json_response(found[0])
