"""OpenAI's files and batches, passed through: a file goes to the first provider that takes calls
naming no model (streamed on as it is uploaded), a batch to the provider holding its input file; both
belong to the key that created them. A batch file's lines name public models, which the key must be
allowed and the file's provider must serve: they are swapped for the upstream's ids on the way."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import orjson

from anygate.core.errors import GatewayError, invalid_request
from anygate.core.usage import Usage
from anygate.protocols.openai.passthrough import (
    Passed,
    answered,
    bill_once,
    forwarded,
    holder,
    json_answer,
    listed,
    model_less,
    relayed,
    remember,
    send,
)
from anygate.providers.base import Passage
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.server.multipart_form import field_value, read_upload
from anygate.store import upstream_objects

FILES = "openai-files"
BATCHES = "openai-batches"
MAX_FILE_BYTES = 512 * 1024 * 1024  # OpenAI's limit on one file
MAX_BATCH_LINE_BYTES = 16 * 1024 * 1024
_FINISHED = {"completed", "failed", "expired", "cancelled"}
BATCH_INPUT = "batch-input"  # a file uploaded with purpose batch, its lines checked and swapped


async def upload_file(request: web.Request, call: Call) -> web.Response:
    """POST /files: the file streamed on to the upstream as it arrives."""
    passed = model_less(call, "POST /openai/v1/files")
    await admit(call, {})
    upload = await read_upload(request, ("purpose",), MAX_FILE_BYTES)
    if field_value(upload, "purpose") == "batch":
        upload = dataclasses.replace(upload, chunks=_batch_lines(call, passed, upload.chunks, upload.failure))
    reply = await send(call, FILES, passed, Passage("POST", "/files", upload=upload, headers=forwarded(request)))
    answer = json_answer(call, FILES, passed, reply)
    await remember(call, "file", answer, passed)
    if field_value(upload, "purpose") == "batch":  # its lines were checked: a batch may read it
        await remember(call, BATCH_INPUT, answer, passed)
    return answered(call, FILES, passed, answer)


async def _batch_lines(
    call: Call, passed: Passed, chunks: AsyncIterator[bytes], failure: list[Exception]
) -> AsyncIterator[bytes]:
    """A batch file's lines, each request's public model swapped for the upstream's (the key must be
    allowed it, and the file's provider must serve it); a refused line ends the upload (kept in `failure`)."""
    try:
        async for piece in _swapped(call, passed, chunks):
            yield piece
    except GatewayError as err:
        failure.append(err)
        raise


async def _swapped(call: Call, passed: Passed, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    held = b""
    number = 0
    async for chunk in chunks:
        held += chunk
        lines = held.split(b"\n")
        held = lines.pop()
        if len(held) > MAX_BATCH_LINE_BYTES:
            raise invalid_request(
                f"Line {number + len(lines) + 1} of the batch file is longer than {MAX_BATCH_LINE_BYTES // 2**20} MB"
            )
        out = []
        for line in lines:
            number += 1
            out.append(_batch_line(call, passed, line, number))
        if out:
            yield b"\n".join(out) + b"\n"
    if held.strip():
        yield _batch_line(call, passed, held, number + 1)


def _batch_line(call: Call, passed: Passed, line: bytes, number: int) -> bytes:
    if not line.strip():
        return line
    try:
        request = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise invalid_request(f"Line {number} of the batch file is not JSON") from None
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise invalid_request(f"Line {number} of the batch file has no body.model")
    targets = [t for t in call.gateway.models.plan(body["model"], call.key) if t.provider is passed.provider]
    if not targets:
        raise invalid_request(
            f"Line {number} of the batch file: the model '{body['model']}' is not served by this gateway's batch provider"
        )
    body["model"] = targets[0].model
    return orjson.dumps(request)


async def list_files(request: web.Request, call: Call) -> web.Response:
    """GET /files: the key's own files."""
    passed, page = await listed(request, call, FILES, "file", "/files")
    return answered(call, FILES, passed, page)


async def file_object(request: web.Request, call: Call) -> web.StreamResponse:
    """GET or DELETE /files/{file_id}, and GET /files/{file_id}/content (streamed through)."""
    file_id = request.match_info["file_id"]
    passed = await holder(call, "file", file_id, "File")
    await admit(call, {})
    path = f"/files/{file_id}" + ("/content" if request.path.endswith("/content") else "")
    reply = await send(call, FILES, passed, Passage(request.method, path, request.query, headers=forwarded(request)))
    if request.method == "DELETE":
        await upstream_objects.forget(call.gateway.engine, "file", file_id, passed.provider.name)
    return await relayed(request, call, FILES, passed, reply)


async def create_batch(request: web.Request, call: Call) -> web.Response:
    """POST /batches, at the provider holding the key's input file."""
    body = await read_json_object(request)
    file_id = body.get("input_file_id")
    if not isinstance(file_id, str) or not file_id:
        raise invalid_request("'input_file_id' is required", "input_file_id")
    passed = await holder(call, "file", file_id, "File")
    if not await upstream_objects.held(call.gateway.engine, BATCH_INPUT, [file_id], call.key.id):
        raise invalid_request(
            f"The file '{file_id}' was not uploaded with purpose 'batch', so its requests were not checked", "input_file_id"
        )
    await admit(call, {})
    reply = await send(call, BATCHES, passed, Passage("POST", "/batches", json=body, headers=forwarded(request)))
    answer = json_answer(call, BATCHES, passed, reply)
    await remember(call, "batch", answer, passed)
    await _settle(call, passed, answer)
    return answered(call, BATCHES, passed, answer)


async def _settle(call: Call, passed: Passed, batches: Any) -> None:
    """The output and error files of the key's batches are the key's too; a finished batch's tokens
    are billed the first time the key sees it."""
    items = [b for b in (batches if isinstance(batches, list) else [batches]) if isinstance(b, dict)]
    ids = [b[name] for b in items for name in ("output_file_id", "error_file_id") if isinstance(b.get(name), str)]
    if ids:
        await upstream_objects.remember(call.gateway.engine, "file", ids, passed.provider.name, call.key.id)
    finished = {}
    for batch in items:
        usage = batch.get("usage")
        if batch.get("status") in _FINISHED and isinstance(usage, dict) and isinstance(batch.get("id"), str):
            tokens = Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
            finished[batch["id"]] = (str(batch.get("model") or ""), tokens)
    await bill_once(call, BATCHES, passed, "batch", finished)


async def list_batches(request: web.Request, call: Call) -> web.Response:
    """GET /batches: the key's own batches."""
    passed, page = await listed(request, call, BATCHES, "batch", "/batches")
    await _settle(call, passed, page["data"])
    return answered(call, BATCHES, passed, page)


async def batch_object(request: web.Request, call: Call) -> web.Response:
    """GET /batches/{batch_id} and POST /batches/{batch_id}/cancel."""
    batch_id = request.match_info["batch_id"]
    passed = await holder(call, "batch", batch_id, "Batch")
    await admit(call, {})
    path = f"/batches/{batch_id}" + ("/cancel" if request.path.endswith("/cancel") else "")
    reply = await send(call, BATCHES, passed, Passage(request.method, path, headers=forwarded(request)))
    answer = json_answer(call, BATCHES, passed, reply)
    await _settle(call, passed, answer)
    return answered(call, BATCHES, passed, answer)
