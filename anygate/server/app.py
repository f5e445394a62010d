"""The application: one route table from every family, wrapped with auth and error rendering, and the
gateway's start and stop around it."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import re
import secrets
import time
from typing import Any

import orjson

from anygate import __version__
from anygate.admin.family import FAMILY as ADMIN_FAMILY
from anygate.admin.metrics import check_scraper, scrape
from anygate.config import Settings
from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.dashboard.serve import add_dashboard
from anygate.metering.record import ERROR_KEPT
from anygate.protocols import families
from anygate.server import web
from anygate.server.authenticate import authenticate, authenticate_admin
from anygate.server.call import Call
from anygate.server.endpoints import public_index
from anygate.server.family import Family, Route
from anygate.server.gateway import Gateway
from anygate.server.router import Router
from anygate.server.streaming import CLIENT_CLOSED, ClientGone

log = logging.getLogger(__name__)

AUTH_STYLES = ["Authorization: Bearer <key>", "x-api-key: <key>", "x-goog-api-key: <key>", "?key=<key>"]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # also what lets the access line skip JSON escaping


_ID_PREFIX = "req_" + secrets.token_hex(6)  # random per process; a counter makes each id unique within it
_id_counter = itertools.count(1)


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id")
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return f"{_ID_PREFIX}{next(_id_counter):010x}"


def _refusal(
    request: web.Request,
    route: Route,
    family: Family,
    request_id: str,
    call: Call | None,
    status: int,
    seconds: float,
    error: str,
) -> dict[str, Any]:
    """What the dashboard shows of a call that ended before any upstream answered it (so left no usage record)."""
    return {
        "created_at": time.time(),
        "request_id": request_id,
        "key_id": call.key.id if call is not None else None,
        "family": family.name,
        "method": request.method,
        "route": route.path,
        "public_model": call.model if call is not None else "",
        "status": status,
        "latency_ms": seconds * 1000.0,
        "error": error[:ERROR_KEPT] or None,
    }


def _handler(route: Route, family: Family, gateway: Gateway) -> Any:
    counted = route.auth != "admin"  # in the in-flight counts and the refusals (the dashboard's own calls are not)

    async def handle(request: web.Request) -> web.StreamResponse:
        request_id = _request_id(request)
        started = time.time()
        call: Call | None = None
        status = 500
        error = ""
        try:
            if "%00" in request.raw_path:  # no id, name or parameter holds a NUL (PostgreSQL cannot even look one up)
                raise invalid_request("The URL holds a NUL character (%00)")
            if route.auth == "admin":
                key = authenticate_admin(request, gateway.settings.admin_key)
            else:
                key = await authenticate(request, gateway.keys)
            call = Call(gateway, key, request_id, started, family=family.name)
            if counted:
                gateway.metrics.entered(key.id)
            response = await route.handler(request, call)
            status = response.status
            if not response.prepared:
                response.headers.setdefault("x-request-id", request_id)
                await _written(call)
            return response
        except GatewayError as err:
            status = err.status
            error = err.message
            await _written(call)
            return family.render_error(err, request_id)
        except (ClientGone, ConnectionResetError):
            status = CLIENT_CLOSED  # the client left: there is no one to answer, and nothing went wrong here
            return web.Response(status=CLIENT_CLOSED)
        except asyncio.CancelledError:  # the client left, or a shutdown's grace ran out
            status = 503 if gateway.stopping else CLIENT_CLOSED
            raise
        except Exception:
            log.exception("unhandled error on %s %s (request %s)", request.method, request.path, request_id)
            internal = GatewayError(ErrorKind.INTERNAL, f"Internal gateway error (request id {request_id})")
            error = internal.message
            return family.render_error(internal, request_id)
        finally:
            if (call is None or not call.streaming) and (request.transport is None or request.transport.is_closing()):
                status = CLIENT_CLOSED  # the answer, whatever it was, went to no one: the client had gone
            ended = time.time()
            elapsed = ended - started
            if call is None:
                gateway.metrics.request(family.name, status, elapsed)
            else:
                to_client = call.first_byte_seconds if call.streaming else elapsed
                gateway.metrics.request(family.name, status, elapsed, call.upstream_seconds, to_client)
            gateway.access.add(
                (
                    ended,
                    request_id,
                    request.method,
                    route.path,
                    family.name,
                    status,
                    elapsed,
                    call.key.id if call is not None else None,
                    call.attempts if call is not None else 0,
                    call.model if call is not None else "",
                    call.provider if call is not None else "",
                )
            )
            if status >= 400 and counted and (call is None or not call.recorded):
                gateway.refusals.add(_refusal(request, route, family, request_id, call, status, elapsed, error))
            if call is not None:
                if counted:
                    gateway.metrics.left(call.key.id)
                call.done = True
                if call.holds_slot:
                    gateway.limiter.release(call.key.id)
                if call.hold is not None:  # ended before any usage was recorded: the reservation goes back
                    gateway.usage.release(call.hold)
                if call.streaming:
                    gateway.metrics.stream_ended()
                    gateway.streams.discard(call)

    return handle


async def _written(call: Call | None) -> None:
    """With `metering.durability: sync`, wait until the call's usage record is written, before its answer goes out."""
    if call is not None and call.recorded and call.gateway.usage.sync:
        await call.gateway.usage.written()


def _family_of(path: str, all_families: list[Family]) -> Family:
    for family in all_families:
        if path.startswith(family.prefix):
            return family
    return next(f for f in all_families if f.name == "openai")


class App:
    """The gateway's routes and its start and stop (which the server calls around serving)."""

    def __init__(self, settings: Settings, metrics_dir: str | None = None) -> None:
        self.settings = settings
        self.gateway = gateway = Gateway(settings, metrics_dir)
        all_families = [*families(), ADMIN_FAMILY]
        index = orjson.dumps(public_index(families()))

        async def unknown_route(request: web.Request) -> web.StreamResponse:
            err = GatewayError(ErrorKind.NOT_FOUND, f"Unknown route: {request.method} {request.path}")
            return _family_of(request.path, all_families).render_error(err, _request_id(request))

        async def health(_: web.Request) -> web.StreamResponse:
            return web.json_response({"status": "ok", "version": __version__})

        async def endpoints(_: web.Request) -> web.StreamResponse:
            return web.Response(body=index, content_type="application/json")

        async def root(_: web.Request) -> web.StreamResponse:
            """Where a person (or a probe) landing on the bare address finds their way."""
            links = {"health": "/health", "endpoints": "/api-endpoints.json", "dashboard": "/dashboard", "metrics": "/metrics"}
            bases = {"openai": "/openai/v1", "anthropic": "/anthropic", "gemini": "/gemini"}
            return web.json_response(
                {"name": "anygate", "version": __version__, "status": "ok", "links": links, "sdk_base_urls": bases}
            )

        async def metrics(request: web.Request) -> web.StreamResponse:
            try:
                check_scraper(request, gateway)
            except GatewayError as err:
                return _family_of("/openai/", all_families).render_error(err, _request_id(request))
            headers = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-cache"}
            return web.Response(body=(await scrape(gateway)).encode(), headers=headers)

        self.router = router = Router(unknown_route)
        router.add("GET", "/", root)
        router.add("GET", "/health", health)
        router.add("GET", "/metrics", metrics)
        add_dashboard(router)
        router.add("GET", "/api-endpoints.json", endpoints)
        for family in all_families:
            for route in family.routes:
                router.add(route.method, route.path, _handler(route, family, gateway))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request."""
        return await self.router.resolve(request)(request)

    async def start(self) -> None:
        """Start the gateway (before the first request)."""
        await self.gateway.start()
        # Everything built so far lives as long as the process: keep it out of the collector's full
        # passes, which otherwise rescan it all and stall the event loop for tens of milliseconds.
        gc.collect()
        gc.freeze()

    def stopping(self) -> None:
        """The listener is closed; requests in flight have the grace period to end, after which they are
        cancelled. Streams are cut a little before, so that each can still send its error event."""
        grace = self.settings.server.shutdown_grace_seconds
        self.gateway.stopping_handle = asyncio.get_running_loop().call_later(
            grace - min(1.0, grace / 10), self.gateway.cut_streams
        )

    async def stop(self) -> None:
        """Stop the gateway (after the last request): usage written, connections closed."""
        await self.gateway.stop()
