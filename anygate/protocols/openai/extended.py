"""The OpenAI extended routes: POST /openai/v1/embeddings and POST /openai/v1/images/generations,
served by every target whose provider has them (passed through, or answered from another API)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.outbound import read_bounded
from anygate.core.usage import Usage, estimate_tokens
from anygate.metering.record import record_failure, record_usage
from anygate.providers import declared_kinds
from anygate.providers.base import DrawsImages, DrawsImagesByTask, Embeds, Reply
from anygate.providers.openai_shapes import images_response, images_response_urls
from anygate.providers.upstream_errors import json_object
from anygate.routing.table import Target
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.dispatch import attempt
from anygate.server.json_body import read_json_object
from anygate.tasks.targets import TaskTarget

_FETCH_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
MAX_IMAGE_BYTES = 50 * 1024 * 1024


def _usage(answer: dict[str, Any], body: dict[str, Any]) -> Usage:
    """Tokens as the answer reports them (embeddings: prompt_tokens; gpt-image: input/output_tokens)."""
    usage = answer.get("usage")
    if isinstance(usage, dict):
        inputs = usage.get("prompt_tokens", usage.get("input_tokens"))
        return Usage(int(inputs or 0), int(usage.get("output_tokens") or 0))
    text = body.get("input", body.get("prompt"))
    return Usage(estimate_tokens(text if isinstance(text, str) else orjson.dumps(text).decode()), estimated=True)


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "You must provide a model parameter", param="model")
    return model


async def _serve(
    body: dict[str, Any],
    call: Call,
    family: str,
    what: str,
    serves: Callable[[Target], bool],
    send: Callable[[Target, dict[str, Any]], Awaitable[Reply]],
) -> web.Response:
    model = _model(body)
    plan = [t for t in call.gateway.models.plan(model, call.key) if serves(t)]
    if not plan:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The model '{model}' does not support {what}", param="model")
    await admit(call, body, plan)
    target, reply = await attempt(call, family, plan, lambda t: send(t, body))
    raw = reply.body or b""
    try:
        answer = json_object(raw, target.provider.name)
    except GatewayError as err:
        record_failure(call, family, target, err)
        raise
    record_usage(call, family, target, _usage(answer, body), 200)
    return web.Response(body=raw, content_type="application/json", headers={"x-request-id": call.request_id})


async def embeddings(request: web.Request, call: Call) -> web.Response:
    """Embeddings from the model's targets that make them."""

    async def send(target: Target, body: dict[str, Any]) -> Reply:
        assert isinstance(target.provider, Embeds)
        return await target.provider.embed(body, target.model)

    body = await read_json_object(request)
    return await _serve(body, call, "openai-embeddings", "embeddings", lambda t: isinstance(t.provider, Embeds), send)


async def image_generations(request: web.Request, call: Call) -> web.Response:
    """Images from the model's targets that generate them."""

    async def send(target: Target, body: dict[str, Any]) -> Reply:
        assert isinstance(target.provider, DrawsImages)
        return await target.provider.generate_images(body, target.model)

    body = await read_json_object(request)
    if any(call.gateway.tasks.models.runs(_model(body), kind) for kind in declared_kinds("image_kinds")):
        return await _draw_by_task(call, body)
    return await _serve(body, call, "openai-images", "image generation", lambda t: isinstance(t.provider, DrawsImages), send)


async def _draw_by_task(call: Call, body: dict[str, Any]) -> web.Response:
    """Images from a task model whose provider draws them (DashScope's image generation, Kling's image
    task waited for within the request)."""
    target = call.gateway.tasks.models.resolve(_model(body), call.key, *declared_kinds("image_kinds"))
    provider = target.provider
    if not isinstance(provider, DrawsImagesByTask):
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"The model '{target.public_model}' does not support image generation", param="model"
        )
    return await _drawn(call, body, target, lambda: provider.draw_images(body, target.model))


async def _drawn(call: Call, body: dict[str, Any], target: TaskTarget, draw: Callable[[], Awaitable[list[str]]]) -> web.Response:
    """The images a task model's provider draws, answered in OpenAI's shape (URLs, or `b64_json`
    fetched); billed at the target's task price."""
    await admit(call, body, [target])
    try:
        urls = await draw()
        answer = images_response_urls(urls) if body.get("response_format") != "b64_json" else await _fetch_images(call, urls)
    except GatewayError as err:
        record_failure(call, "openai-images", target, err)
        raise
    record_usage(call, "openai-images", target, Usage(), 200)
    return web.json_response(answer, headers={"x-request-id": call.request_id})


async def _fetch_images(call: Call, urls: list[str]) -> dict[str, Any]:
    """The images an upstream links to, fetched (under the rules for upstream asset URLs) for a client
    that asked for `b64_json`."""
    images = []
    for url in urls:
        resp = await call.gateway.outbound.open_asset(
            url, "image", allow_private=call.gateway.settings.fetch_allow_private, timeout=_FETCH_TIMEOUT
        )
        try:
            data = await read_bounded(resp, MAX_IMAGE_BYTES)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"the image could not be fetched ({type(exc).__name__})", code="upstream_unreachable"
            ) from None
        finally:
            resp.release()
        if data is None:
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB",
                code="upstream_bad_response",
            )
        images.append((resp.content_type or "image/png", base64.b64encode(data).decode()))
    return images_response(images, "b64_json")
