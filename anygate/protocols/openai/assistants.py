"""OpenAI's Assistants API (assistants, threads, their messages and runs), passed through: an assistant
lives at its model's provider, a thread at the first provider that takes calls naming no model; each
belongs to the key that created it. Models show as their public ids both ways, and a run's tokens are
billed once, when the key first sees it finished."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.errors import invalid_request
from anygate.core.usage import Usage
from anygate.protocols.openai.file_refs import check_files, named_files
from anygate.protocols.openai.passthrough import (
    Passed,
    answered,
    bill_once,
    forwarded,
    holder,
    json_answer,
    listed,
    model_less,
    model_targets,
    on_target,
    relayed,
    remember,
    send,
)
from anygate.providers.base import Passage, Provider
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.server.model_names import rename_each
from anygate.store import upstream_objects

FAMILY = "openai-assistants"
_FINISHED = {"completed", "failed", "incomplete", "cancelled", "expired"}


def _public_names(call: Call, provider: Provider) -> dict[str, str]:
    """The public model id of each upstream model id of `provider`."""
    names: dict[str, str] = {}
    for target in call.gateway.models.targets():
        if target.provider is provider:
            names.setdefault(target.model, target.public_model)
    return names


def _shown(call: Call, provider: Provider, answer: Any) -> Any:
    """An answer (an object or a list page) with public model ids in place of the upstream's."""
    names = _public_names(call, provider)
    items = answer.get("data") if isinstance(answer, dict) and answer.get("object") == "list" else [answer]
    for item in items or []:
        if isinstance(item, dict) and item.get("model") in names:
            item["model"] = names[item["model"]]
    return answer


def _upstream_model(call: Call, body: dict[str, Any], passed: Passed | None, route: str) -> Passed:
    """The body's public model swapped for the upstream's, on `passed`'s provider when it is set (an
    object that exists stays where it is); the provider to call."""
    targets = model_targets(call, body.get("model"), route)
    if passed is not None:
        targets = [t for t in targets if t.provider is passed.provider]
        if not targets:
            raise invalid_request(f"The model '{body['model']}' is not served where this object lives", "model")
    body["model"] = targets[0].model
    return on_target(targets[0])


async def create_assistant(request: web.Request, call: Call) -> web.Response:
    """POST /assistants, at its model's provider."""
    body = await read_json_object(request)
    passed = _upstream_model(call, body, None, "POST /openai/v1/assistants")
    await check_files(call, named_files(body))
    await admit(call, {})
    answer = json_answer(
        call,
        FAMILY,
        passed,
        await send(call, FAMILY, passed, Passage("POST", "/assistants", json=body, headers=forwarded(request))),
    )
    await remember(call, "assistant", answer, passed)
    return answered(call, FAMILY, passed, _shown(call, passed.provider, answer))


async def list_assistants(request: web.Request, call: Call) -> web.Response:
    """GET /assistants: the key's own."""
    passed, page = await listed(request, call, FAMILY, "assistant", "/assistants")
    return answered(call, FAMILY, passed, _shown(call, passed.provider, page))


async def assistant_object(request: web.Request, call: Call) -> web.Response:
    """GET, POST (modify) or DELETE /assistants/{assistant_id}."""
    assistant_id = request.match_info["assistant_id"]
    passed = await holder(call, "assistant", assistant_id, "assistant")
    body = await read_json_object(request) if request.method == "POST" else None
    if body is not None and "model" in body:
        _upstream_model(call, body, passed, f"POST /openai/v1/assistants/{assistant_id}")
    await check_files(call, named_files(body))
    await admit(call, {})
    reply = await send(
        call, FAMILY, passed, Passage(request.method, f"/assistants/{assistant_id}", json=body, headers=forwarded(request))
    )
    answer = json_answer(call, FAMILY, passed, reply)
    if request.method == "DELETE":
        await upstream_objects.forget(call.gateway.engine, "assistant", assistant_id, passed.provider.name)
    return answered(call, FAMILY, passed, _shown(call, passed.provider, answer))


async def create_thread(request: web.Request, call: Call) -> web.Response:
    """POST /threads, at the first provider that takes calls naming no model."""
    body = await read_json_object(request) if request.can_read_body else {}
    passed = model_less(call, "POST /openai/v1/threads")
    await check_files(call, named_files(body))
    await admit(call, {})
    answer = json_answer(
        call, FAMILY, passed, await send(call, FAMILY, passed, Passage("POST", "/threads", json=body, headers=forwarded(request)))
    )
    await remember(call, "thread", answer, passed)
    return answered(call, FAMILY, passed, answer)


async def thread_part(request: web.Request, call: Call) -> web.StreamResponse:
    """A thread (GET, POST to modify, DELETE) and everything under it: messages, runs (streamed with
    `stream: true`), run steps, tool outputs. A run may use only the key's own assistants."""
    thread_id = request.match_info["thread_id"]
    rest = request.path.split(f"/threads/{thread_id}", 1)[1].strip("/")  # the route's ids are [A-Za-z0-9_-]
    passed = await holder(call, "thread", thread_id, "thread")
    body = await read_json_object(request) if request.method == "POST" and request.can_read_body else None
    if body is not None and rest == "runs":
        await _check_run(call, body, passed)
    await check_files(call, named_files(body))
    await admit(call, {})
    path = f"/threads/{thread_id}" + (f"/{rest}" if rest else "")
    reply = await send(call, FAMILY, passed, Passage(request.method, path, request.query, json=body, headers=forwarded(request)))
    if request.method == "DELETE" and not rest:
        await upstream_objects.forget(call.gateway.engine, "thread", thread_id, passed.provider.name)
    if reply.body is None:  # a run's events
        runs = _RunStream(_public_names(call, passed.provider))
        response = await relayed(request, call, FAMILY, passed, reply, edit=runs)
        await _bill_runs(call, passed, {"object": "list", "data": runs.finished})
        return response
    answer = json_answer(call, FAMILY, passed, reply)
    await _bill_runs(call, passed, answer)
    return answered(call, FAMILY, passed, _shown(call, passed.provider, answer))


class _RunStream:
    """A run's event stream on its way: each whole event's model ids made public, and the runs it
    shows finished kept (to bill them)."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = {k.encode(): orjson.dumps(v)[1:-1] for k, v in names.items()}
        self._held = b""
        self.finished: list[dict[str, Any]] = []

    def feed(self, chunk: bytes) -> bytes:
        events = (self._held + chunk).split(b"\n\n")
        self._held = events.pop()
        return b"".join(self._event(event) + b"\n\n" for event in events)

    def close(self) -> bytes:
        held, self._held = self._held, b""
        return self._event(held) if held else b""

    def _event(self, event: bytes) -> bytes:
        data = next((line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")), b"")
        try:
            parsed = orjson.loads(data) if data.startswith(b"{") else None
        except orjson.JSONDecodeError:  # an event the client is left to judge
            parsed = None
        if isinstance(parsed, dict) and parsed.get("object") == "thread.run" and parsed.get("status") in _FINISHED:
            self.finished.append(parsed)
        return rename_each(event, self._names)


async def _check_run(call: Call, body: dict[str, Any], passed: Passed) -> None:
    """A run's assistant must be the key's, where the thread lives; its model, if it names one, public."""
    assistant_id = body.get("assistant_id")
    if not isinstance(assistant_id, str):
        raise invalid_request("'assistant_id' is required", "assistant_id")
    if (await holder(call, "assistant", assistant_id, "assistant")).provider is not passed.provider:
        raise invalid_request(f"The assistant '{assistant_id}' lives at another provider than this thread", "assistant_id")
    if body.get("model") is not None:
        _upstream_model(call, body, passed, "POST /openai/v1/threads/{thread_id}/runs")


async def _bill_runs(call: Call, passed: Passed, answer: dict[str, Any]) -> None:
    """The tokens of each finished run in the answer, billed the first time the key sees it finished."""
    items = answer.get("data") if answer.get("object") == "list" else [answer]
    runs = {}
    for item in items or []:
        if (
            isinstance(item, dict)
            and item.get("object") == "thread.run"
            and item.get("status") in _FINISHED
            and isinstance(item.get("id"), str)
        ):
            usage = item.get("usage") if isinstance(item.get("usage"), dict) else {}
            assert isinstance(usage, dict)
            runs[item["id"]] = (
                str(item.get("model") or ""),
                Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)),
            )
    await bill_once(call, FAMILY, passed, "run", runs)
