"""The tools of a Responses request on an upstream that is not the Responses API, and the way back.

- `function` tools go as they are.
- A `namespace` groups function (and custom) tools: each goes up as `{namespace}__{name}`, and its
  calls come back as `function_call` items with `name` and `namespace` apart, as OpenAI returns them.
- A `custom` tool (free-form text input, such as Codex's `apply_patch`) goes up as a function taking
  one string, `input`; its calls come back as `custom_tool_call` items, its results come in as
  `custom_tool_call_output` items.
- `local_shell` goes up as a function taking the command as an array; its calls come back as
  `local_shell_call` items with an `exec` action. The newer `shell` (commands run in order) and
  `apply_patch` (create, update or delete a file by a diff) go up as functions too and come back as
  `shell_call` and `apply_patch_call` items; their `*_output` items are read as tool results.
- Hosted tools (`web_search`, `file_search`, `code_interpreter`, `image_generation`, `computer_use*`,
  `mcp`, …) run at OpenAI. An upstream with its own web search or code execution runs that instead
  (core/server_tools.py); the others are dropped (the request records which, for the log and
  metrics), or refused by a target whose config says `hosted_tools: refuse`. A `tool_choice` that
  requires a hosted tool is refused: the answer could not honour it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from anygate.core.chat import Tool, ToolCall
from anygate.core.errors import invalid_request
from anygate.core.server_tools import capability
from anygate.core.tool_arguments import dump_arguments
from anygate.protocols.openai.chat_request import function_tool

SEPARATOR = "__"
_MAX_NAME = 64  # OpenAI's limit on function names (Anthropic and Gemini allow as many or more)
_CUSTOM_SCHEMA = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The tool's whole input, as free-form text."}},
    "required": ["input"],
}
LOCAL_SHELL = "local_shell"
_LOCAL_SHELL_SCHEMA = {
    "type": "object",
    "properties": {
        "command": {"type": "array", "items": {"type": "string"}, "description": "The command and its arguments, as for execvp."},
        "working_directory": {"type": "string", "description": "The directory to run it in."},
        "timeout_ms": {"type": "integer", "description": "How long it may run, in milliseconds."},
    },
    "required": ["command"],
}
_LOCAL_SHELL_DESCRIPTION = "Runs a command on the user's machine and returns its output."
SHELL = "shell"
_SHELL_SCHEMA = {
    "type": "object",
    "properties": {
        "commands": {"type": "array", "items": {"type": "string"}, "description": "Shell commands to run, in order."},
        "timeout_ms": {"type": "integer", "description": "How long they may run, in milliseconds."},
        "max_output_length": {"type": "integer", "description": "How many characters of output to keep."},
    },
    "required": ["commands"],
}
_SHELL_DESCRIPTION = "Runs shell commands in the user's environment, in order, and returns their output."
APPLY_PATCH = "apply_patch"
_APPLY_PATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["create_file", "update_file", "delete_file"]},
        "path": {"type": "string", "description": "The file's path."},
        "diff": {
            "type": "string",
            "description": "The change as a V4A diff (for create_file, the whole new file); none for delete_file.",
        },
    },
    "required": ["type", "path"],
}
_APPLY_PATCH_DESCRIPTION = "Creates, updates or deletes a file in the user's workspace."
# client tool types that go up as one fixed function each (named as the type): description, schema
_FIXED = {
    LOCAL_SHELL: (_LOCAL_SHELL_DESCRIPTION, _LOCAL_SHELL_SCHEMA),
    SHELL: (_SHELL_DESCRIPTION, _SHELL_SCHEMA),
    APPLY_PATCH: (_APPLY_PATCH_DESCRIPTION, _APPLY_PATCH_SCHEMA),
}


@dataclass(frozen=True, slots=True)
class Origin:
    """What a flattened tool was in the client's request."""

    kind: str  # function, custom, local_shell, shell or apply_patch
    name: str
    namespace: str | None = None


def upstream_name(name: str, namespace: str | None) -> str:
    """The function name a tool goes up as: `<namespace>__<name>`, cut to OpenAI's 64 characters with
    a digest of the whole when longer (the same every time, so replayed calls find their tool)."""
    if not namespace:
        return name
    joined = f"{namespace}{SEPARATOR}{name}"
    if len(joined) <= _MAX_NAME:
        return joined
    return f"{joined[: _MAX_NAME - 9]}_{hashlib.sha256(joined.encode()).hexdigest()[:8]}"


class ResponsesTools:
    """The tools of one Responses request: the canonical ones, the hosted ones dropped, and where each came from."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.tools: list[Tool] = []
        self.dropped: list[str] = []
        self.server_tools: dict[str, str] = {}  # what other providers can run of them (core/server_tools.py)
        self.origins: dict[str, Origin] = {}
        for i, spec in enumerate(specs):
            self._add(spec, f"tools[{i}]", None)

    def _add(self, spec: dict[str, Any], where: str, namespace: str | None) -> None:
        kind = spec.get("type")
        name = spec.get("name")
        if not isinstance(kind, str):
            raise invalid_request(f"{where}.type must be a string", f"{where}.type")
        if kind in ("function", "custom", "namespace") and not isinstance(name, str):
            raise invalid_request(f"{where}.name is required", f"{where}.name")
        if kind == "namespace" and namespace is None:
            for j, inner in enumerate(spec.get("tools") or []):
                if not isinstance(inner, dict):
                    raise invalid_request(f"{where}.tools[{j}] must be an object", f"{where}.tools")
                self._add(inner, f"{where}.tools[{j}]", str(name))
            return
        if kind == "function":
            tool = function_tool(spec, where)
        elif kind == "custom":
            description = spec.get("description") if isinstance(spec.get("description"), str) else None
            tool = Tool(str(name), _custom_description(description, spec.get("format")), _CUSTOM_SCHEMA)
        elif kind in _FIXED and namespace is None:
            description, schema = _FIXED[kind]
            tool = Tool(kind, description, schema)
        elif namespace is None:
            self.dropped.append(kind)
            if (runs_elsewhere := capability(kind, spec)) is not None:
                self.server_tools.setdefault(runs_elsewhere, kind)
            return
        else:
            raise invalid_request(f"{where}: a namespace holds function and custom tools, not '{kind}'", where)
        flat = upstream_name(tool.name, namespace)
        self.origins[flat] = Origin(kind, tool.name, namespace)
        tool.name = flat
        self.tools.append(tool)

    def check_choice(self, choice: Any) -> str | None:
        """The upstream name of the tool `tool_choice` forces (None: no single tool); a 400 when it is a
        hosted tool that will not be there."""
        if not isinstance(choice, dict):
            return None
        kind = choice.get("type")
        if kind in ("function", "custom") and isinstance(choice.get("name"), str):
            return upstream_name(choice["name"], choice.get("namespace") if isinstance(choice.get("namespace"), str) else None)
        if isinstance(kind, str) and kind in _FIXED:
            return kind
        if kind in ("allowed_tools", None):
            return None
        raise invalid_request(
            f"tool_choice requires the hosted tool '{kind}', which this model's provider cannot run", "tool_choice"
        )

    def kind(self, name: str) -> str:
        """What kind of tool the upstream name `name` is in the client's request (function if unknown)."""
        origin = self.origins.get(name)
        return origin.kind if origin is not None else "function"

    def call_item(self, call: ToolCall, item_id: str, status: str = "completed") -> dict[str, Any]:
        """The output item of a call the upstream made, as the Responses API returns that kind of tool's call."""
        origin = self.origins.get(call.name)
        if origin is None or origin.kind == "function":
            item = {"type": "function_call", "id": item_id, "call_id": call.id, "name": call.name}
            if origin is not None and origin.namespace:
                item["name"], item["namespace"] = origin.name, origin.namespace
            return {**item, "arguments": dump_arguments(call.arguments), "status": status}
        if origin.kind == "custom":
            item = {"type": "custom_tool_call", "id": item_id, "call_id": call.id, "name": origin.name}
            if origin.namespace:
                item["namespace"] = origin.namespace
            return {**item, "input": custom_input(call.arguments), "status": status}
        item = {"type": f"{origin.kind}_call", "id": item_id, "call_id": call.id}
        if origin.kind == SHELL:
            return {**item, "action": _commands(call.arguments), "status": status}
        if origin.kind == APPLY_PATCH:
            return {**item, "operation": _operation(call.arguments), "status": status}
        return {**item, "action": shell_action(call.arguments), "status": status}


def _custom_description(description: str | None, fmt: Any) -> str:
    """A custom tool's description for a function, its input grammar included when it has one."""
    text = description or ""
    if isinstance(fmt, dict) and fmt.get("type") == "grammar" and isinstance(fmt.get("definition"), str):
        syntax = f"{fmt['syntax']} " if isinstance(fmt.get("syntax"), str) else ""
        text += f"\n\nThe input must follow this {syntax}grammar:\n{fmt['definition']}"
    return text + "\n\nPut the tool's whole input, as free-form text, in the `input` argument."


def custom_input(arguments: dict[str, Any]) -> str:
    """A custom tool call's text input, from the function arguments the upstream gave."""
    value = arguments.get("input")
    return value if isinstance(value, str) else dump_arguments(arguments)


def shell_action(arguments: dict[str, Any]) -> dict[str, Any]:
    """A local_shell_call's `exec` action, from the function arguments the upstream gave."""
    command = arguments.get("command")
    if isinstance(command, str):
        command = ["bash", "-lc", command]
    action: dict[str, Any] = {"type": "exec", "command": [str(c) for c in command or []], "env": {}}
    for key in ("working_directory", "timeout_ms"):
        if arguments.get(key) is not None:
            action[key] = arguments[key]
    return action


def _commands(arguments: dict[str, Any]) -> dict[str, Any]:
    """A shell_call's action, from the function arguments the upstream gave."""
    commands = arguments.get("commands")
    action: dict[str, Any] = {"commands": [commands] if isinstance(commands, str) else [str(c) for c in commands or []]}
    for key in ("timeout_ms", "max_output_length"):
        if arguments.get(key) is not None:
            action[key] = arguments[key]
    return action


def _operation(arguments: dict[str, Any]) -> dict[str, Any]:
    """An apply_patch_call's operation, from the function arguments the upstream gave."""
    operation = {"type": str(arguments.get("type") or "update_file"), "path": str(arguments.get("path") or "")}
    if operation["type"] != "delete_file":
        operation["diff"] = str(arguments.get("diff") or "")
    return operation


def call_arguments(item: dict[str, Any]) -> dict[str, Any]:
    """The function arguments of a replayed shell_call, apply_patch_call or local_shell_call."""
    if item.get("type") == "shell_call":
        return dict(item["action"]) if isinstance(item.get("action"), dict) else {"commands": []}
    if item.get("type") == "apply_patch_call":
        return dict(item["operation"]) if isinstance(item.get("operation"), dict) else {}
    return shell_arguments(item.get("action"))


def result_text(item: dict[str, Any]) -> str:
    """The text a model reads of a shell_call_output (stdout, stderr, outcome of each command) or an
    apply_patch_call_output (its status, and what it said)."""
    output = item.get("output")
    if item.get("type") == "apply_patch_call_output":
        return str(item.get("status") or "completed") + (f": {output}" if isinstance(output, str) and output else "")
    texts = []
    for chunk in (c for c in output if isinstance(c, dict)) if isinstance(output, list) else ():
        outcome: dict[str, Any] = chunk["outcome"] if isinstance(chunk.get("outcome"), dict) else {}
        ended = "timed out" if outcome.get("type") == "timeout" else f"exit code {outcome.get('exit_code')}"
        stderr = f"\n[stderr]\n{chunk['stderr']}" if chunk.get("stderr") else ""
        texts.append(f"{chunk.get('stdout') or ''}{stderr}\n[{ended}]")
    return "\n".join(texts)


def shell_arguments(action: Any) -> dict[str, Any]:
    """The function arguments of a replayed local_shell_call's action."""
    action = action if isinstance(action, dict) else {}
    arguments: dict[str, Any] = {"command": action.get("command") or []}
    for key in ("working_directory", "timeout_ms"):
        if action.get(key) is not None:
            arguments[key] = action[key]
    return arguments
