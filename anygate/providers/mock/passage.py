"""Which of the mock's answers a passed-through call gets, by its method and path."""

from __future__ import annotations

import re
from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.providers.base import Passage, Reply
from anygate.providers.mock import audio
from anygate.providers.mock.objects import MockObjects, page


def _body(passage: Passage) -> dict[str, Any]:
    return passage.json if passage.json is not None else {}


def _json(value: Any) -> Reply:
    return Reply(body=orjson.dumps(value))


async def serve(objects: MockObjects, passage: Passage) -> Reply:
    """The mock's answer to one call of OpenAI's audio, moderation, file, batch, assistant or thread routes."""
    method, path, query, body = passage.method, passage.path, dict(passage.query), _body(passage)
    parts = path.strip("/").split("/")
    if method == "POST" and path == "/audio/speech":
        return audio.speech(body)
    if method == "POST" and path in ("/audio/transcriptions", "/audio/translations") and passage.upload is not None:
        return await audio.transcript(passage.upload, "transcribe" if path.endswith("transcriptions") else "translate")
    if method == "POST" and path == "/moderations":
        return audio.moderation(body)
    shelf = {
        "files": objects.files,
        "batches": objects.batches,
        "assistants": objects.assistants,
        "threads": objects.threads,
    }.get(parts[0])
    if shelf is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"The mock has no route {method} {path}")
    if len(parts) == 1:
        if method == "GET":
            return _json(page(list(shelf.items.values()), query))
        if parts[0] == "files" and passage.upload is not None:
            return await objects.upload(passage.upload)
        create = {"batches": objects.batch, "assistants": objects.assistant, "threads": objects.thread}.get(parts[0])
        if create is None:
            raise invalid_request("This route takes a multipart/form-data body with a file")
        return create(body)
    item_id = parts[1]
    if len(parts) == 2:
        if method == "DELETE" and parts[0] != "batches":
            if parts[0] == "files":
                objects.contents.pop(item_id, None)
            return shelf.delete(item_id)
        if method == "POST" and parts[0] in ("assistants", "threads"):
            shelf.get(item_id).update({k: v for k, v in body.items() if k not in ("id", "object", "created_at")})
        return _json(shelf.get(item_id))
    return _nested(objects, method, parts, query, body)


def _nested(objects: MockObjects, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]) -> Reply:
    """A file's content, a batch's cancel, a thread's messages and runs."""
    kind, item_id, what = parts[0], parts[1], "/".join(parts[2:])
    if kind == "files" and what == "content":
        return objects.content(item_id)
    if kind == "batches" and what == "cancel":
        return objects.cancel(item_id)
    if kind == "threads":
        objects.threads.get(item_id)
        if what == "messages":
            return _json(page(objects.messages[item_id], query)) if method == "GET" else _json(objects.message(item_id, body))
        if what == "runs":
            if method == "GET":
                return _json(page(objects.runs[item_id], query))
            run = objects.run(item_id, body)
            return objects.run_events(run, item_id) if body.get("stream") else _json(run)
        found = re.fullmatch(r"runs/([^/]+)", what)
        if found:
            for run in objects.runs[item_id]:
                if run["id"] == found.group(1):
                    return _json(run)
            raise GatewayError(ErrorKind.NOT_FOUND, f"No run found with id '{found.group(1)}'.")
    raise GatewayError(ErrorKind.NOT_FOUND, f"The mock has no route {method} /{'/'.join(parts)}")
