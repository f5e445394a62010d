"""A fake Gemini API upstream speaking the real wire format (shapes recorded from generativelanguage.googleapis.com).

The model in the URL picks the behaviour: `gemini-echo` answers with text; `gemini-tools` makes two
function calls without ids (as pre-3 models do; the first signed, as Gemini 3 does) and ends with a separate empty STOP chunk; `gemini-think`
sends a signed thought before the text; `gemini-400`, `gemini-429` and `gemini-503` fail with those statuses;
`gemini-hang`, `gemini-mute`, `gemini-stall`, `gemini-drop` make the faults of tests/fakes/faults.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes.faults import Faults

UPSTREAM_KEY = "AIza-upstream-secret-0123456789"
TEXT = "Hello from the fake Gemini, streamed in several chunks."
THOUGHT = "Thinking about a greeting."
SIGNATURE = "CiQB0e2Kb-fake-thought-signature"
CALLS = [("get_weather", {"city": "Paris"}), ("get_time", {"timezone": "Europe/Paris"})]
USAGE = {
    "promptTokenCount": 30,
    "candidatesTokenCount": 12,
    "thoughtsTokenCount": 6,
    "cachedContentTokenCount": 8,
    "totalTokenCount": 48,
}


_ERRORS = {
    "gemini-400": (400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"),
    "gemini-429": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "gemini-503": (503, "UNAVAILABLE", "The model is overloaded."),
}


class FakeGemini:
    """The fake's state: every request it received, for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.faults = Faults()
        self.app = web.Application()
        self.app.router.add_post("/v1beta/models/{action}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model, _, action = request.match_info["action"].partition(":")
        self.requests.append({"path": request.path, "query": dict(request.query), "headers": dict(request.headers), "body": body})
        if action == "countTokens":
            return web.json_response({"totalTokens": 77})
        if action == "batchEmbedContents":
            size = body["requests"][0].get("outputDimensionality", 4)
            return web.json_response({"embeddings": [{"values": [0.5] * size} for _ in body["requests"]]})
        if await self.faults.before_headers(model, request):
            return web.Response()
        if model in _ERRORS:
            status, kind, message = _ERRORS[model]
            return web.json_response({"error": {"code": status, "message": message, "status": kind}}, status=status)
        chunks = _chunks(model)
        if action == "generateContent":
            return web.json_response(_merge(chunks))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if await self.faults.after_headers(model, request):
            return response
        for chunk in chunks:
            await response.write(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
            if await self.faults.after_chunk(model, request):
                break
        return response


def _chunk(
    parts: list[dict[str, Any]], model: str, finish: str | None = None, usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "fakeResp01"}
    chunk["usageMetadata"] = usage or {
        "promptTokenCount": USAGE["promptTokenCount"],
        "totalTokenCount": USAGE["promptTokenCount"],
    }
    return chunk


def _chunks(model: str) -> list[dict[str, Any]]:
    if model == "gemini-tools":
        calls: list[dict[str, Any]] = [{"functionCall": {"name": n, "args": a}} for n, a in CALLS]
        calls[0]["thoughtSignature"] = SIGNATURE  # Gemini 3 signs the first call of a turn
        return [_chunk(calls, model), _chunk([{"text": ""}], model, "STOP", USAGE)]
    pieces = [TEXT[i : i + 20] for i in range(0, len(TEXT), 20)]
    chunks = [_chunk([{"text": p}], model) for p in pieces[:-1]] + [_chunk([{"text": pieces[-1]}], model, "STOP", USAGE)]
    if model == "gemini-think":
        chunks.insert(0, _chunk([{"text": THOUGHT, "thought": True, "thoughtSignature": SIGNATURE}], model))
    return chunks


def _merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for chunk in chunks:
        for part in chunk["candidates"][0]["content"]["parts"]:
            if parts and "text" in part and "text" in parts[-1] and part.get("thought") == parts[-1].get("thought"):
                parts[-1] = {**parts[-1], "text": parts[-1]["text"] + part["text"]}
            elif part != {"text": ""}:
                parts.append(part)
    last = chunks[-1]
    return {**last, "candidates": [{**last["candidates"][0], "content": {"parts": parts, "role": "model"}}]}
