"""The OpenAI Responses API: POST /openai/v1/responses over any upstream (through the hub), and the
stored responses behind GET / DELETE /openai/v1/responses/{id} and …/{id}/input_items.

With `store` (the default, as at OpenAI) a response is kept with the whole conversation it answered,
before the client sees it finished, so `previous_response_id` works at once, for any upstream.
"""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.protocols.openai.file_refs import check_files, parts_files
from anygate.protocols.openai.responses_native import NATIVE_RESPONSES, native_input, relay_stream, relay_whole
from anygate.protocols.openai.responses_request import input_items
from anygate.protocols.openai.responses_shape import ResponsesShape, new_id
from anygate.protocols.openai.responses_store import Stored, load, remove, save
from anygate.routing.table import Target
from anygate.server import web
from anygate.server.call import Call
from anygate.server.dispatch import Generation, obtain
from anygate.server.generation import translate_reply
from anygate.server.json_body import read_json_object

_ITEM_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "local_shell_call": "lsh",
    "local_shell_call_output": "lsho",
    "shell_call": "sh",
    "shell_call_output": "sho",
    "apply_patch_call": "apc",
    "apply_patch_call_output": "apco",
    "reasoning": "rs",
}


def _invalid(message: str, param: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def _not_found(response_id: str, param: str | None = None) -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, f"Response with id '{response_id}' not found.", param=param)


def _stored_item(item: dict[str, Any]) -> dict[str, Any]:
    """An input item as input_items lists it: with an id, and a message's text as parts."""
    kind = item.get("type", "message")
    stored = {"id": new_id(_ITEM_PREFIXES.get(str(kind), "item")), **item, "type": kind}
    if kind == "message":
        if isinstance(item.get("content"), str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            stored["content"] = [{"type": part, "text": item["content"]}]
        stored.setdefault("status", "completed")
    return stored


async def create_response(request: web.Request, call: Call) -> web.StreamResponse:
    """Generate a response from the model's targets, translated from and to the Responses format."""
    body = await read_json_object(request)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("You must provide a model parameter", "model")
    stream, store = body.get("stream", False), body.get("store", True)
    if not isinstance(stream, bool):
        raise _invalid("'stream' must be a boolean", "stream")
    if not isinstance(store, bool):
        raise _invalid("'store' must be a boolean", "store")
    items = [_stored_item(i) for i in input_items(body.get("input"))]
    gateway = call.gateway
    conversation = items
    previous = body.get("previous_response_id")
    if previous is not None:
        if not isinstance(previous, str):
            raise _invalid("'previous_response_id' must be a string", "previous_response_id")
        earlier = await load(gateway.engine, call.key.id, previous)
        if earlier is None:
            raise GatewayError(
                ErrorKind.NOT_FOUND, f"Previous response with id '{previous}' not found.", param="previous_response_id"
            )
        conversation = earlier.input_items + earlier.response.get("output", []) + items
    plan = gateway.models.plan(model, call.key)
    if files := parts_files(items, "content"):
        await check_files(call, files)
    expanded = {**body, "input": conversation}
    relayed = {k: v for k, v in expanded.items() if k != "previous_response_id"} | {"input": native_input(conversation)}

    def native_body(target: Target) -> dict[str, Any]:
        return {**relayed, "model": target.model}

    shape = ResponsesShape(body, model)
    generation = Generation(call, shape, expanded, stream, native_body, native=NATIVE_RESPONSES)
    await generation.admit(plan)
    target, reply = await obtain(generation, plan)

    async def keep(final: dict[str, Any] | None) -> None:
        if store and final is not None:
            if previous is not None:  # a native upstream saw the conversation inlined, not the id
                final["previous_response_id"] = previous
            if "model" in final:  # as the client saw it: the public id, not a native upstream's
                final["model"] = target.public_model
            await save(gateway.engine, call.key.id, conversation, final)

    if generation.relays(target):
        if reply.chunks is None:
            return await relay_whole(call, target, relayed, reply.body or b"", keep)
        return await relay_stream(request, call, target, relayed, reply, keep)
    answer = await translate_reply(request, generation, target, reply, before_end=lambda: keep(shape.final))
    if not stream:
        await keep(shape.final)
    return answer


async def _stored(request: web.Request, call: Call) -> Stored:
    """The stored response the route names, of this key; 404 otherwise."""
    response_id = request.match_info["response_id"]
    stored = await load(call.gateway.engine, call.key.id, response_id)
    if stored is None:
        raise _not_found(response_id)
    return stored


async def get_response(request: web.Request, call: Call) -> web.Response:
    """A stored response of this key."""
    return web.json_response((await _stored(request, call)).response)


async def delete_response(request: web.Request, call: Call) -> web.Response:
    """Delete a stored response of this key."""
    response_id = request.match_info["response_id"]
    if not await remove(call.gateway.engine, call.key.id, response_id):
        raise _not_found(response_id)
    return web.json_response({"id": response_id, "object": "response", "deleted": True})


async def list_input_items(request: web.Request, call: Call) -> web.Response:
    """The input items a stored response answered (the whole conversation), newest first unless `order=asc`."""
    stored = await _stored(request, call)
    query = request.query
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise _invalid("'order' must be asc or desc", "order")
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise _invalid("'limit' must be an integer between 1 and 100", "limit") from None
    if not 1 <= limit <= 100:
        raise _invalid("'limit' must be an integer between 1 and 100", "limit")
    items = stored.input_items if order == "asc" else stored.input_items[::-1]
    after = query.get("after")
    if after:
        ids = [i.get("id") for i in items]
        if after not in ids:
            raise _invalid(f"No input item with id '{after}' in this response", "after")
        items = items[ids.index(after) + 1 :]
    page = items[:limit]
    return web.json_response(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
    )
