"""Files named inside a request body (a message's attachment, an assistant's code-interpreter files, a
chat `file` part, a Responses `input_file`): each must be the caller's key's own, or the upstream,
which knows one account for every key, would hand another key's file to it."""

from __future__ import annotations

from typing import Any

from anygate.protocols.openai.passthrough import missing
from anygate.server.call import Call
from anygate.store import upstream_objects

_MAX_DEPTH = 16  # a file id sits a few levels down; no walk goes deeper


def named_files(value: Any, depth: int = 0) -> set[str]:
    """Every `file_id` (and each of `file_ids`) anywhere in an Assistants API body."""
    found: set[str] = set()
    if depth > _MAX_DEPTH:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "file_id" and isinstance(item, str):
                found.add(item)
            elif key == "file_ids" and isinstance(item, list):
                found.update(i for i in item if isinstance(i, str))
            elif isinstance(item, dict | list):
                found |= named_files(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                found |= named_files(item, depth + 1)
    return found


def parts_files(turns: Any, turn_key: str) -> set[str]:
    """The `file_id` of each content part of a list of turns (chat `messages`, Responses `input`) —
    where a chat `file` part and a Responses `input_file` or `input_image` name theirs. (On every
    chat call: turns whose content is a string, the most, cost one look each.)"""
    found: set[str] = set()
    if not isinstance(turns, list):
        return found
    for turn in turns:
        parts = turn.get(turn_key) if type(turn) is dict else None
        if type(parts) is not list:
            continue
        for part in parts:
            if type(part) is not dict:
                continue
            file = part.get("file")
            named = file.get("file_id") if type(file) is dict else part.get("file_id")
            if type(named) is str:
                found.add(named)
    return found


async def check_files(call: Call, files: set[str]) -> None:
    """404, as for any id the key does not own, for a named file that is not the key's."""
    if not files:
        return
    mine = await upstream_objects.held(call.gateway.engine, "file", files, call.key.id)
    for file_id in sorted(files - mine):
        raise missing("File", file_id)
