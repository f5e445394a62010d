"""Anthropic's client tools (the model asks, the client runs them) as plain function tools, with the
input schemas Anthropic documents for them, so that a model of another family can call them and the
client gets the same `tool_use` blocks back."""

from __future__ import annotations

from typing import Any

from anygate.core.chat import Tool

_STRING = {"type": "string"}
_BASH = (
    "bash",
    "Run a command in a persistent bash shell.",
    {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The bash command to run."},
            "restart": {"type": "boolean", "description": "Restart the shell instead of running a command."},
        },
    },
)
_EDITOR_PROPERTIES: dict[str, Any] = {
    "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"]},
    "path": {"type": "string", "description": "Absolute path to the file or directory."},
    "file_text": _STRING,
    "old_str": _STRING,
    "new_str": _STRING,
    "insert_line": {"type": "integer"},
    "insert_text": _STRING,
    "view_range": {"type": "array", "items": {"type": "integer"}, "description": "[first line, last line]; -1 for the end."},
}
_EDITOR = (
    "str_replace_based_edit_tool",
    "View, create and edit text files: view a file or directory, create a file, replace a unique string, insert text after a line.",
    {"type": "object", "properties": _EDITOR_PROPERTIES, "required": ["command", "path"]},
)
_MEMORY = (
    "memory",
    "Read and write files in the /memories directory, kept across conversations.",
    {
        "type": "object",
        "properties": {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "delete", "rename"]},
            "path": _STRING,
            "file_text": _STRING,
            "old_str": _STRING,
            "new_str": _STRING,
            "insert_line": {"type": "integer"},
            "insert_text": _STRING,
            "old_path": _STRING,
            "new_path": _STRING,
            "view_range": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["command"],
    },
)
_BY_PREFIX = {"bash_": _BASH, "text_editor_": _EDITOR, "memory_": _MEMORY}


def client_tool(kind: str, name: Any) -> Tool | None:
    """The function tool for a client tool type such as `bash_20250124` (None: not a client tool)."""
    for prefix, (default_name, description, schema) in _BY_PREFIX.items():
        if kind.startswith(prefix):
            return Tool(name if isinstance(name, str) else default_name, description, schema)
    return None
