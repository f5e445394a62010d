"""What OpenAI's pass-through routes (audio, moderations, files, batches, assistants, threads) share:
choosing the upstream, sending the call, answering with what came back, metering each call, and the
ids upstreams hand out, which belong to the key that created them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.core.usage import Usage
from anygate.metering.record import record_failure, record_usage
from anygate.providers.base import Passage, PassesThrough, Provider, Reply
from anygate.providers.upstream_errors import json_object
from anygate.routing.table import Target
from anygate.server import streaming, web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.dispatch import upstream_failed
from anygate.store import upstream_objects

_FORWARDED = ("OpenAI-Beta",)
MAX_LIST_PAGES = 5  # upstream pages read to fill one page of the key's own objects


class StreamEdit(Protocol):
    """What reads a relayed stream on its way, and may rewrite it."""

    def feed(self, chunk: bytes) -> bytes:
        """What of the stream so far goes to the client now."""
        ...

    def close(self) -> bytes:
        """What is left to send once the stream has ended."""
        ...


@dataclass(frozen=True, slots=True)
class Passed:
    """A passed-through call as metered: the model (public and upstream, empty when none was named),
    the provider, and its price."""

    public_model: str
    model: str
    provider: Provider
    price: float = 0.0

    def cost(self, usage: Usage) -> float:
        """The call's price, as the route worked it out (audio by characters or minutes; else nothing)."""
        return self.price


def _group(route: str) -> str:
    """Which of PASS_THROUGH_ROUTES a route ("POST /openai/v1/audio/speech") belongs to."""
    return route.split("/openai/v1/", 1)[-1].split("/", 1)[0]


def model_less(call: Call, route: str) -> Passed:
    """The provider for a call that names no model: the first in the configuration that passes calls
    through and allows it; 503 when none does."""
    for provider in call.gateway.providers.values():
        if isinstance(provider, PassesThrough) and provider.config.passthrough and _group(route) in provider.passes:
            return Passed("", "", provider)
    raise GatewayError(ErrorKind.UNAVAILABLE, f"No provider here serves {route}", code="provider_unavailable")


def model_targets(call: Call, model: Any, route: str) -> list[Target]:
    """The targets of `model` (the key may use it) whose providers take `route`; 400 when none does."""
    if not isinstance(model, str) or not model:
        raise invalid_request("You must provide a model parameter", "model")
    plan = [
        t
        for t in call.gateway.models.plan(model, call.key)
        if isinstance(t.provider, PassesThrough) and _group(route) in t.provider.passes
    ]
    if not plan:
        raise invalid_request(f"The model '{model}' is not served on {route}", "model")
    return plan


def on_target(target: Target, price: float = 0.0) -> Passed:
    """A call to a model's target, as metered."""
    return Passed(target.public_model, target.model, target.provider, price)


def forwarded(request: web.Request) -> dict[str, str]:
    """The client's headers the upstream needs too (the Assistants API's version)."""
    return {name: request.headers[name] for name in _FORWARDED if name in request.headers}


async def send(call: Call, family: str, passed: Passed, passage: Passage) -> Reply:
    """The upstream's answer; a failure is recorded (at no cost) and raised."""
    provider = passed.provider
    assert isinstance(provider, PassesThrough)
    call.attempts = 1
    try:
        return await provider.pass_through(passage)
    except GatewayError as err:
        failed = passage.upload.failure if passage.upload is not None else []
        if not failed:
            upstream_failed(call, passed.public_model, passed.provider.name, err)
        record_failure(call, family, passed, err)
        if failed and isinstance(failed[0], GatewayError):  # the client's upload broke off, or was too large
            raise failed[0] from None
        raise


def json_answer(call: Call, family: str, passed: Passed, reply: Reply) -> dict[str, Any]:
    """The JSON object of a whole answer; 502 (recorded) when it is not one."""
    try:
        if reply.body is None:
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{passed.provider.name}' answered with {reply.content_type}, not JSON",
                code="upstream_bad_response",
            )
        return json_object(reply.body, passed.provider.name)
    except GatewayError as err:
        record_failure(call, family, passed, err)
        raise


def answered(call: Call, family: str, passed: Passed, answer: Any, usage: Usage | None = None) -> web.Response:
    """The JSON answer, once the call is recorded."""
    record_usage(call, family, passed, usage or Usage(), 200)
    return web.Response(body=orjson.dumps(answer), content_type="application/json", headers={"x-request-id": call.request_id})


async def relayed(
    request: web.Request,
    call: Call,
    family: str,
    passed: Passed,
    reply: Reply,
    usage: Usage | None = None,
    edit: StreamEdit | None = None,
) -> web.StreamResponse:
    """The answer as it came: a JSON body whole, anything else streamed as it arrives (an upstream that
    breaks off cuts the client's connection: a binary stream has no error event); `edit` reads (and
    may rewrite) the stream on the way."""
    usage = usage or Usage()
    if reply.body is not None:
        record_usage(call, family, passed, usage, 200)
        return web.Response(body=reply.body, content_type=reply.content_type, headers={"x-request-id": call.request_id})
    assert reply.chunks is not None
    call.abandon = reply.close
    status = 200
    response = web.StreamResponse()
    try:
        response = await streaming.start(request, call, reply.content_type)
        try:
            async for chunk in reply.chunks:
                await streaming.write(response, edit.feed(chunk) if edit is not None else chunk)
            if edit is not None:
                await streaming.write(response, edit.close())
            await response.write_eof()
        except streaming.UPSTREAM_READ_ERRORS as exc:
            status = streaming.upstream_read_error(call, passed.provider.name, exc).status
            if request.transport is not None:
                request.transport.close()
    except streaming.ClientGone:
        status = streaming.CLIENT_CLOSED
    finally:
        record_usage(call, family, passed, usage, status)
        await reply.close()
    return response


def missing(kind: str, object_id: str) -> GatewayError:
    """The 404 of an id the key does not own (another key's objects do not exist for it)."""
    return GatewayError(ErrorKind.NOT_FOUND, f"No such {kind} object: {object_id}", code="not_found")


async def holder(call: Call, kind: str, object_id: str, label: str) -> Passed:
    """The provider holding the key's object `object_id`; 404 when the key has none by that id."""
    name = await upstream_objects.holder(call.gateway.engine, kind, object_id, call.key.id)
    provider = call.gateway.providers.get(name or "")
    if provider is None or not isinstance(provider, PassesThrough):
        raise missing(label, object_id)
    return Passed("", "", provider)


async def remember(call: Call, kind: str, answer: dict[str, Any], passed: Passed) -> None:
    """Record the object an upstream just handed out as the key's."""
    if isinstance(answer.get("id"), str):
        await upstream_objects.remember(call.gateway.engine, kind, [answer["id"]], passed.provider.name, call.key.id)


async def listed(request: web.Request, call: Call, family: str, kind: str, path: str) -> tuple[Passed, dict[str, Any]]:
    """GET of a list (`path`: /files, /batches, /assistants) at the first provider that takes calls
    naming no model: that provider, and a page of the key's own objects."""
    passed = model_less(call, f"GET /openai/v1{path}")
    await admit(call, {})
    return passed, await _own_list(call, family, kind, passed, Passage("GET", path, request.query, headers=forwarded(request)))


async def _own_list(call: Call, family: str, kind: str, passed: Passed, passage: Passage) -> dict[str, Any]:
    """A list page of the key's own objects: the upstream's pages (from the client's cursor) read until
    `limit` of them are found or the list ends (at most MAX_LIST_PAGES pages)."""
    query = dict(passage.query)
    limit = max(1, min(int(query["limit"]), 10000)) if query.get("limit", "").isdigit() else 20
    found: list[dict[str, Any]] = []
    more = False
    for _ in range(MAX_LIST_PAGES):
        reply = await send(call, family, passed, Passage("GET", passage.path, query, headers=passage.headers))
        page = json_answer(call, family, passed, reply)
        data = [item for item in page.get("data") or [] if isinstance(item, dict) and isinstance(item.get("id"), str)]
        mine = await upstream_objects.owned(call.gateway.engine, kind, [i["id"] for i in data], passed.provider.name, call.key.id)
        ours = [item for item in data if item["id"] in mine]
        room = limit - len(found)
        found += ours[:room]
        if len(ours) > room:  # the page is full, and more of the key's objects follow
            more = True
            break
        more = bool(page.get("has_more")) and bool(data)
        if len(found) >= limit or not more:
            break
        query["after"] = data[-1]["id"]
    first, last = (found[0]["id"], found[-1]["id"]) if found else (None, None)
    return {"object": "list", "data": found, "first_id": first, "last_id": last, "has_more": more}


async def bill_once(call: Call, family: str, passed: Passed, kind: str, finished: dict[str, tuple[str, Usage]]) -> None:
    """Bill the tokens of finished jobs (runs, batches: id -> upstream model and usage) the first time
    the key sees each finished, at the prices of the target serving that upstream model."""
    if not finished:
        return
    new = await upstream_objects.remember(
        call.gateway.engine, f"{kind}-billed", list(finished), passed.provider.name, call.key.id
    )
    targets = [t for t in call.gateway.models.targets() if t.provider is passed.provider]
    for job in new:
        model, usage = finished[job]
        target = next((t for t in targets if t.model == model), None)
        record_usage(
            call, family, on_target(target, target.cost(usage)) if target else Passed("", model, passed.provider), usage, 200
        )
