"""What agent clients send that plain chat clients do not: Responses namespaces, custom and local shell
tools and hosted tools; Anthropic system messages between turns, client and server tools; and the
thinking settings of every family, by the table in core/reasoning.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from anygate.core.chat import ChatRequest, ChatResponse, Message, Reasoning, Text, Tool, ToolCall, ToolResult
from anygate.core.errors import GatewayError
from anygate.core.stream import StreamEnd, StreamStart, ToolCallDelta, ToolCallStart
from anygate.core.usage import Usage
from anygate.protocols.anthropic.messages_request import build_request as build_anthropic
from anygate.protocols.anthropic.messages_request import parse_request as parse_anthropic
from anygate.protocols.gemini.request import build_request as build_gemini
from anygate.protocols.gemini.request import parse_request as parse_gemini
from anygate.protocols.openai.chat_request import build_request as build_chat
from anygate.protocols.openai.chat_request import parse_request as parse_chat
from anygate.protocols.openai.responses_shape import ResponsesShape

NAMESPACE = {
    "type": "namespace",
    "name": "crm",
    "description": "Customer records.",
    "tools": [
        {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}},
        {"type": "custom", "name": "note", "description": "Free text note."},
    ],
}
PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Apply a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
}
TOOLS = [
    {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
    NAMESPACE,
    PATCH,
    {"type": "local_shell"},
    {"type": "web_search", "external_web_access": False},
    {"type": "file_search", "vector_store_ids": ["vs_1"]},
]


def _responses(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "input": "hi", "tools": TOOLS, **extra}


def _shape(**extra: Any) -> ResponsesShape:
    return ResponsesShape(_responses(**extra), "m")


def test_responses_tools_are_flattened_and_hosted_ones_recorded() -> None:
    req = _shape().parse_request(_responses())
    assert [t.name for t in req.tools] == ["exec_command", "crm__lookup", "crm__note", "apply_patch", "local_shell"]
    assert req.tools[1].parameters == NAMESPACE["tools"][0]["parameters"]  # type: ignore[index]
    assert req.tools[2].parameters["required"] == ["input"] and req.tools[2].description.startswith("Free text note.")  # type: ignore[union-attr]
    assert "start: /.+/" in req.tools[3].description  # type: ignore[operator]  # the grammar goes along
    assert req.tools[4].parameters["properties"]["command"]["type"] == "array"
    assert req.tools[4].description == "Runs a command on the user's machine and returns its output."
    assert req.hosted_tools == ["web_search", "file_search"]


@pytest.mark.parametrize(
    ("choice", "forced"),
    [
        ({"type": "function", "name": "exec_command"}, "exec_command"),
        ({"type": "custom", "name": "apply_patch"}, "apply_patch"),
        ({"type": "local_shell"}, "local_shell"),
    ],
)
def test_responses_tool_choice_names_the_upstream_tool(choice: dict[str, Any], forced: str) -> None:
    req = _shape().parse_request(_responses(tool_choice=choice))
    assert req.tool_choice is not None and (req.tool_choice.mode, req.tool_choice.name) == ("tool", forced)


def test_responses_tool_choice_of_a_hosted_tool_is_refused() -> None:
    with pytest.raises(GatewayError) as refused:
        _shape().parse_request(_responses(tool_choice={"type": "web_search"}))
    assert refused.value.status == 400 and refused.value.param == "tool_choice" and "web_search" in refused.value.message


def test_a_namespace_inside_a_namespace_is_refused() -> None:
    nested = {"type": "namespace", "name": "a", "description": "", "tools": [{**NAMESPACE}]}
    with pytest.raises(GatewayError) as refused:
        _shape().parse_request({"model": "m", "input": "hi", "tools": [nested]})
    assert "tools[0].tools[0]" in refused.value.message


CALLS = [
    ToolCall("call_1", "crm__lookup", {"id": "42"}),
    ToolCall("call_2", "crm__note", {"input": "called back"}),
    ToolCall("call_3", "apply_patch", {"input": "*** Begin Patch\n*** End Patch"}),
    ToolCall("call_4", "local_shell", {"command": ["ls", "-la"], "working_directory": "/tmp", "timeout_ms": 5000}),
    ToolCall("call_5", "exec_command", {"cmd": "ls"}),
]


def _strip_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


EXPECTED_ITEMS = [
    {
        "type": "function_call",
        "call_id": "call_1",
        "name": "lookup",
        "namespace": "crm",
        "arguments": '{"id":"42"}',
        "status": "completed",
    },
    {
        "type": "custom_tool_call",
        "call_id": "call_2",
        "name": "note",
        "namespace": "crm",
        "input": "called back",
        "status": "completed",
    },
    {
        "type": "custom_tool_call",
        "call_id": "call_3",
        "name": "apply_patch",
        "input": "*** Begin Patch\n*** End Patch",
        "status": "completed",
    },
    {
        "type": "local_shell_call",
        "call_id": "call_4",
        "action": {"type": "exec", "command": ["ls", "-la"], "env": {}, "working_directory": "/tmp", "timeout_ms": 5000},
        "status": "completed",
    },
    {"type": "function_call", "call_id": "call_5", "name": "exec_command", "arguments": '{"cmd":"ls"}', "status": "completed"},
]


def test_calls_come_back_as_the_items_of_their_tools_kinds() -> None:
    shape = _shape()
    whole = shape.build_response(ChatResponse("r", "m", list(CALLS), "tool_calls", Usage(3, 4)), "m", "req")
    assert _strip_ids(whole["output"]) == EXPECTED_ITEMS
    assert [i["id"].partition("_ag")[0] for i in whole["output"]] == ["fc", "ctc", "ctc", "lsh", "fc"]


def _stream(shape: ResponsesShape) -> list[dict[str, Any]]:
    writer = shape.stream_writer(shape.parse_request(_responses()), "m", "req")
    raw = writer.write(StreamStart("up-1", "m", Usage(5, 0)))
    for index, call in enumerate(CALLS):
        raw += writer.write(ToolCallStart(index, call.id, call.name))
        arguments = orjson.dumps(call.arguments).decode()
        for i in range(0, len(arguments), 5):
            raw += writer.write(ToolCallDelta(index, arguments[i : i + 5]))
    raw += writer.write(StreamEnd("tool_calls", Usage(0, 7)))
    return [orjson.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]


def test_streamed_calls_use_each_kinds_events() -> None:
    events = _stream(_shape())
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert _strip_ids(done) == EXPECTED_ITEMS
    assert events[-1]["type"] == "response.completed" and _strip_ids(events[-1]["response"]["output"]) == EXPECTED_ITEMS
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    assert [(a["type"], a.get("arguments"), a.get("input"), a["status"]) for a in added] == [
        ("function_call", "", None, "in_progress"),
        ("custom_tool_call", None, "", "in_progress"),
        ("custom_tool_call", None, "", "in_progress"),
        ("local_shell_call", None, None, "in_progress"),
        ("function_call", "", None, "in_progress"),
    ]
    custom = [
        (e["type"], e.get("delta", e.get("input"))) for e in events if e["type"].startswith("response.custom_tool_call_input")
    ]
    assert custom == [
        ("response.custom_tool_call_input.delta", "called back"),
        ("response.custom_tool_call_input.done", "called back"),
        ("response.custom_tool_call_input.delta", "*** Begin Patch\n*** End Patch"),
        ("response.custom_tool_call_input.done", "*** Begin Patch\n*** End Patch"),
    ]
    function_deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert "".join(e["delta"] for e in function_deltas) == '{"id":"42"}{"cmd":"ls"}'  # only function calls stream arguments
    args_done = [(e["name"], e["arguments"]) for e in events if e["type"] == "response.function_call_arguments.done"]
    assert args_done == [("lookup", '{"id":"42"}'), ("exec_command", '{"cmd":"ls"}')]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_replayed_calls_and_outputs_of_every_kind_go_back_to_the_upstream_names() -> None:
    items = [{"type": "message", "role": "user", "content": "go"}, *EXPECTED_ITEMS]
    items += [
        {"type": "function_call_output", "call_id": "call_1", "output": "found"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "noted"},
        {"type": "custom_tool_call_output", "call_id": "call_3", "output": "patched"},
        {"type": "local_shell_call_output", "id": "call_4", "output": '{"stdout": "a b"}'},
        {"type": "function_call_output", "call_id": "call_5", "output": "x"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}},
    ]
    req = _shape().parse_request({"model": "m", "input": items, "tools": TOOLS})
    assert [m.role for m in req.messages] == ["user", "assistant", "user"]
    assert req.messages[1].parts == [
        ToolCall("call_1", "crm__lookup", {"id": "42"}),
        ToolCall("call_2", "crm__note", {"input": "called back"}),
        ToolCall("call_3", "apply_patch", {"input": "*** Begin Patch\n*** End Patch"}),
        ToolCall("call_4", "local_shell", {"command": ["ls", "-la"], "working_directory": "/tmp", "timeout_ms": 5000}),
        ToolCall("call_5", "exec_command", {"cmd": "ls"}),
    ]
    results = [(p.call_id, p.name, p.content) for p in req.messages[2].parts if isinstance(p, ToolResult)]
    assert results == [
        ("call_1", "crm__lookup", [Text("found")]),
        ("call_2", "crm__note", [Text("noted")]),
        ("call_3", "apply_patch", [Text("patched")]),
        ("call_4", "local_shell", [Text('{"stdout": "a b"}')]),
        ("call_5", "exec_command", [Text("x")]),
    ]


def test_developer_messages_after_the_first_turn_stay_in_place_for_chat_and_are_hoisted_elsewhere() -> None:
    items = [
        {"type": "message", "role": "developer", "content": "be brief"},
        {"type": "message", "role": "user", "content": "hi"},
        {"type": "message", "role": "developer", "content": "now in French"},
        {"type": "message", "role": "user", "content": "again"},
    ]
    req = _shape().parse_request({"model": "m", "input": items})
    assert req.system == ["be brief"] and [m.role for m in req.messages] == ["user", "system", "user"]
    chat = build_chat(req, "up")["messages"]
    assert chat == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "now in French"},
        {"role": "user", "content": "again"},
    ]
    anthropic = build_anthropic(req, "up")
    assert anthropic["system"] == "be brief\n\nnow in French"
    assert anthropic["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "again"}]}
    ]
    gemini = build_gemini(req, "up")
    assert gemini["systemInstruction"] == {"parts": [{"text": "be brief"}, {"text": "now in French"}]}
    assert gemini["contents"] == [{"role": "user", "parts": [{"text": "hi"}, {"text": "again"}]}]


# --- Anthropic Messages as Claude Code sends it -------------------------------------------------


def _anthropic(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_anthropic_system_messages_between_turns_are_read() -> None:
    body = _anthropic(
        system=[
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=1; cc_entrypoint=cli;"},
            {"type": "text", "text": "You help."},
        ],
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "# Environment", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": "hello"},
        ],
    )
    req = parse_anthropic(body)
    assert req.system == ["You help."]  # the billing line, new on every call, stays behind
    assert req.messages == [
        Message("user", [Text("hi")]),
        Message("system", [Text("# Environment")]),
        Message("assistant", [Text("hello")]),
    ]


def test_anthropic_unknown_roles_are_refused_in_anthropics_words() -> None:
    with pytest.raises(GatewayError) as refused:
        parse_anthropic(_anthropic(messages=[{"role": "tool", "content": "x"}]))
    assert refused.value.status == 400
    assert 'Unexpected role "tool"' in refused.value.message and "input message role" in refused.value.message


def test_anthropic_client_tools_get_their_published_schemas_and_server_tools_are_dropped() -> None:
    body = _anthropic(
        tools=[
            {"type": "bash_20250124", "name": "bash"},
            {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool", "max_characters": 10000},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "web_fetch_20250910", "name": "web_fetch"},
            {"type": "code_execution_20250825", "name": "code_execution"},
            {
                "name": "Read",
                "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
                "defer_loading": True,
                "cache_control": {"type": "ephemeral"},
            },
        ]
    )
    req = parse_anthropic(body)
    assert [t.name for t in req.tools] == ["bash", "str_replace_based_edit_tool", "Read"]
    assert set(req.tools[0].parameters["properties"]) == {"command", "restart"}
    assert req.tools[1].parameters["required"] == ["command", "path"]
    assert req.hosted_tools == ["web_search_20250305", "web_fetch_20250910", "code_execution_20250825"]
    chat_tools = build_chat(req, "up")["tools"]
    assert [t["function"]["name"] for t in chat_tools] == ["bash", "str_replace_based_edit_tool", "Read"]


def test_anthropic_tool_choice_of_a_dropped_server_tool_is_refused() -> None:
    body = _anthropic(
        tools=[{"type": "web_search_20250305", "name": "web_search"}], tool_choice={"type": "tool", "name": "web_search"}
    )
    with pytest.raises(GatewayError) as refused:
        parse_anthropic(body)
    assert refused.value.status == 400 and "web_search" in refused.value.message


def test_anthropic_blocks_agents_send_are_read() -> None:
    body = _anthropic(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "title": "Notes", "source": {"type": "text", "media_type": "text/plain", "data": "abc"}}
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
                    {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                    {"type": "text", "text": "found it"},
                    {"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {"query": "select:Read"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "tool_reference", "tool_name": "Read"}],
                    }
                ],
            },
        ]
    )
    req = parse_anthropic(body)
    assert req.messages[0].parts == [Text("Notes\n\nabc")]
    assert req.messages[1].parts == [Text("found it"), ToolCall("toolu_1", "ToolSearch", {"query": "select:Read"})]
    assert req.messages[2].parts == [ToolResult("toolu_1", [Text("Tool loaded: Read")], name="ToolSearch")]


def test_anthropic_pdf_documents_are_refused_by_name() -> None:
    body = _anthropic(
        messages=[
            {
                "role": "user",
                "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}}],
            }
        ]
    )
    with pytest.raises(GatewayError) as refused:
        parse_anthropic(body)
    assert "only text documents" in refused.value.message and "base64" in refused.value.message


# --- thinking settings, by the table ------------------------------------------------------------


def _req(reasoning: Reasoning | None) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message("user", [Text("hi")])], reasoning=reasoning, tools=[Tool("t")])


@pytest.mark.parametrize(
    ("reasoning", "openai", "anthropic", "gemini"),
    [
        (Reasoning(show=True), None, {"type": "enabled", "budget_tokens": 8192}, {"includeThoughts": True}),
        (Reasoning(effort="minimal"), "minimal", {"type": "enabled", "budget_tokens": 1024}, {"thinkingBudget": 512}),
        (
            Reasoning(effort="low", show=True),
            "low",
            {"type": "enabled", "budget_tokens": 2048},
            {"thinkingBudget": 1024, "includeThoughts": True},
        ),
        (Reasoning(effort="high"), "high", {"type": "enabled", "budget_tokens": 24576}, {"thinkingBudget": 24576}),
        (Reasoning(effort="xhigh"), "xhigh", {"type": "enabled", "budget_tokens": 32768}, {"thinkingBudget": 24576}),
        (Reasoning(effort="none", show=True), "none", None, {"thinkingBudget": 0}),
        (Reasoning(budget_tokens=3000), "medium", {"type": "enabled", "budget_tokens": 3000}, {"thinkingBudget": 3000}),
        (Reasoning(budget_tokens=500), "minimal", {"type": "enabled", "budget_tokens": 1024}, {"thinkingBudget": 500}),
        (Reasoning(budget_tokens=30000), "xhigh", {"type": "enabled", "budget_tokens": 30000}, {"thinkingBudget": 30000}),
    ],
)
def test_thinking_by_the_table(
    reasoning: Reasoning, openai: str | None, anthropic: dict[str, Any] | None, gemini: dict[str, Any]
) -> None:
    assert build_chat(_req(reasoning), "up").get("reasoning_effort") == openai
    assert build_anthropic(_req(reasoning), "up").get("thinking") == anthropic
    assert build_gemini(_req(reasoning), "up").get("generationConfig", {}).get("thinkingConfig") == (gemini or None)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"includeThoughts": True}, Reasoning(show=True)),
        ({"thinkingBudget": -1, "includeThoughts": True}, Reasoning(show=True)),
        ({"thinkingBudget": 2048}, Reasoning(budget_tokens=2048)),
        ({"thinkingLevel": "HIGH", "includeThoughts": True}, Reasoning(effort="high", show=True)),
        ({"thinkingBudget": 0, "includeThoughts": True}, None),
        ({}, None),
    ],
)
def test_gemini_thinking_config_is_read(config: dict[str, Any], expected: Reasoning | None) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"thinkingConfig": config}}
    assert parse_gemini(body).reasoning == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": "high"}}, Reasoning(effort="high")),
        ({"thinking": {"type": "adaptive"}}, Reasoning(show=True)),
        ({"thinking": {"type": "enabled", "budget_tokens": 4096}}, Reasoning(budget_tokens=4096, show=True)),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "max"}}, Reasoning(effort="xhigh")),
        ({"thinking": {"type": "disabled"}}, None),
    ],
)
def test_anthropic_thinking_is_read(body: dict[str, Any], expected: Reasoning | None) -> None:
    assert parse_anthropic(_anthropic(**body)).reasoning == expected


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        ({"summary": "auto"}, Reasoning(show=True)),
        ({"effort": "low", "summary": "detailed"}, Reasoning(effort="low", show=True)),
        ({"effort": "medium"}, Reasoning(effort="medium")),
        ({"effort": "none", "summary": "auto"}, None),
        ({}, None),
    ],
)
def test_responses_reasoning_is_read(reasoning: dict[str, Any], expected: Reasoning | None) -> None:
    assert _shape().parse_request({"model": "m", "input": "hi", "reasoning": reasoning}).reasoning == expected


def test_chat_reasoning_effort_is_read_and_shown() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "HIGH"}
    assert parse_chat(body).reasoning == Reasoning(effort="high", show=True)


def test_gemini_built_in_tools_are_dropped_and_declarations_kept() -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "news?"}]}],
        "tools": [
            {"googleSearch": {}},
            {"functionDeclarations": [{"name": "read_file", "parametersJsonSchema": {"type": "object"}}]},
            {"urlContext": {}},
        ],
    }
    req = parse_gemini(body)
    assert [t.name for t in req.tools] == ["read_file"] and req.hosted_tools == ["googleSearch", "urlContext"]
    with pytest.raises(GatewayError):
        parse_gemini({**body, "tools": [{}]})


# --- web search: the upstreams that have one run it ---------------------------------------------

READ = {"type": "function", "name": "read", "parameters": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "web_search"}, {"web_search": "web_search"}),
        ({"type": "web_search_preview", "search_context_size": "low"}, {"web_search": "web_search_preview"}),
        ({"type": "web_search", "external_web_access": False}, {}),  # Codex's: cached pages only, not the live web
        ({"type": "code_interpreter", "container": {"type": "auto"}}, {"code_execution": "code_interpreter"}),
        ({"type": "file_search", "vector_store_ids": ["vs_1"]}, {}),
    ],
)
def test_responses_server_tools_are_noted_by_capability(spec: dict[str, Any], expected: dict[str, str]) -> None:
    req = _shape().parse_request({"model": "m", "input": "news?", "tools": [spec]})
    assert req.hosted_tools == [spec["type"]] and req.server_tools == expected


def test_web_search_goes_to_anthropic_as_its_server_tool_and_to_gemini_alone_as_google_search() -> None:
    alone = _shape().parse_request({"model": "m", "input": "news?", "tools": [{"type": "web_search"}]})
    with_functions = _shape().parse_request({"model": "m", "input": "news?", "tools": [READ, {"type": "web_search"}]})
    assert build_anthropic(alone, "up")["tools"] == [{"type": "web_search_20250305", "name": "web_search"}]
    assert [t.get("type", "custom") for t in build_anthropic(with_functions, "up")["tools"]] == ["custom", "web_search_20250305"]
    assert build_gemini(alone, "up")["tools"] == [{"googleSearch": {}}]
    assert build_gemini(with_functions, "up")["tools"] == [
        {"functionDeclarations": [{"name": "read", "parametersJsonSchema": READ["parameters"]}]}
    ]
    assert "web_search" not in orjson.dumps(build_chat(alone, "up")).decode()


def test_server_tools_cross_between_anthropic_and_gemini_clients() -> None:
    from anygate.protocols.anthropic.messages_request import request_headers

    anthropic_tools = [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"type": "code_execution_20250825", "name": "code_execution"},
        {"type": "web_fetch_20250910", "name": "web_fetch"},
        {"type": "web_search_tool_result"},  # not a tool type at all: dropped, runs nowhere
    ]
    from_claude = parse_anthropic(_anthropic(tools=anthropic_tools))
    assert from_claude.server_tools == {
        "web_search": "web_search_20250305",
        "code_execution": "code_execution_20250825",
        "web_fetch": "web_fetch_20250910",
    }
    assert build_gemini(from_claude, "up")["tools"] == [{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}}]
    gemini_tools: list[dict[str, Any]] = [{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}, "googleMaps": {}}]
    from_gemini = parse_gemini({"contents": [{"role": "user", "parts": [{"text": "news?"}]}], "tools": gemini_tools})
    assert from_gemini.hosted_tools == ["googleSearch", "codeExecution", "urlContext", "googleMaps"]
    assert build_anthropic(from_gemini, "up")["tools"] == [
        {"type": "web_search_20250305", "name": "web_search"},
        {"type": "code_execution_20250825", "name": "code_execution"},
        {"type": "web_fetch_20250910", "name": "web_fetch"},
    ]
    assert request_headers(from_gemini) == {"anthropic-beta": "code-execution-2025-08-25,web-fetch-2025-09-10"}
    search_only = parse_gemini({"contents": [{"role": "user", "parts": [{"text": "news?"}]}], "tools": [{"googleSearch": {}}]})
    assert request_headers(search_only) == {}


SEARCHED = [
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "news"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [{"type": "web_search_result", "url": "https://example.com", "title": "News", "encrypted_content": "x"}],
    },
    {"type": "text", "text": "Today: ", "citations": None},
    {
        "type": "text",
        "text": "rain.",
        "citations": [{"type": "web_search_result_location", "url": "https://example.com", "cited_text": "rain"}],
    },
]


def test_an_anthropic_answer_that_searched_comes_through_as_its_text() -> None:
    from anygate.protocols.anthropic.messages_response import parse_response

    body = {
        "id": "msg_1",
        "model": "c",
        "content": SEARCHED,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 9, "output_tokens": 4, "server_tool_use": {"web_search_requests": 1}},
    }
    assert parse_response(body).parts == [Text("Today: "), Text("rain.")]


def test_an_anthropic_stream_that_searched_comes_through_as_its_text() -> None:
    from anygate.core.stream import TextDelta
    from anygate.protocols.anthropic.stream_in import MessagesStreamParser

    def sse(name: str, data: dict[str, Any]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"

    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "c",
        "content": [],
        "usage": {"input_tokens": 9, "output_tokens": 1},
    }
    raw = sse("message_start", {"message": message})
    raw += sse("content_block_start", {"index": 0, "content_block": {**SEARCHED[0], "input": {}}})
    raw += sse("content_block_delta", {"index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"query": "news"}'}})
    raw += sse("content_block_stop", {"index": 0})
    raw += sse("content_block_start", {"index": 1, "content_block": SEARCHED[1]})
    raw += sse("content_block_stop", {"index": 1})
    raw += sse("content_block_start", {"index": 2, "content_block": {"type": "text", "text": ""}})
    raw += sse("content_block_delta", {"index": 2, "delta": {"type": "citations_delta", "citation": SEARCHED[3]["citations"][0]}})  # type: ignore[index]
    raw += sse("content_block_delta", {"index": 2, "delta": {"type": "text_delta", "text": "rain."}})
    raw += sse("content_block_stop", {"index": 2})
    raw += sse("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}})
    raw += sse("message_stop", {})
    events = MessagesStreamParser().feed(raw)
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("rain.")]
    assert isinstance(events[-1], StreamEnd) and events[-1].finish == "stop" and events[-1].usage.output_tokens == 4
    assert not [e for e in events if isinstance(e, ToolCallStart | ToolCallDelta)]


# --- the edges of the tool mapping and the table (found by mutation testing) --------------------


@pytest.mark.parametrize(
    ("tools", "param", "message"),
    [
        ([{"type": "function", "parameters": {}}], "tools[0].name", "tools[0].name is required"),
        ([{"type": "custom"}], "tools[0].name", "tools[0].name is required"),
        ([{"type": "namespace", "tools": []}], "tools[0].name", "tools[0].name is required"),
        ([{"type": "function", "name": "f", "parameters": 3}], "tools[0].parameters", "tools[0].parameters"),
        ([{**NAMESPACE, "tools": ["lookup"]}], "tools[0].tools", "tools[0].tools[0] must be an object"),
        (
            [{**NAMESPACE, "tools": [{"type": "local_shell"}]}],
            "tools[0].tools[0]",
            "a namespace holds function and custom tools, not 'local_shell'",
        ),
    ],
)
def test_malformed_tools_are_400s_naming_the_field(tools: list[Any], param: str, message: str) -> None:
    with pytest.raises(GatewayError) as refused:
        _shape().parse_request({"model": "m", "input": "hi", "tools": tools})
    assert refused.value.param == param and message in refused.value.message


def test_a_custom_tool_without_description_or_grammar_says_only_how_to_call_it() -> None:
    req = _shape().parse_request({"model": "m", "input": "hi", "tools": [{"type": "custom", "name": "note", "description": 3}]})
    assert req.tools[0].description == "\n\nPut the tool's whole input, as free-form text, in the `input` argument."
    fmt = {"type": "grammar", "syntax": "regex", "definition": "[a-z]+"}
    req = _shape().parse_request(
        {"model": "m", "input": "hi", "tools": [{"type": "custom", "name": "note", "description": "Note.", "format": fmt}]}
    )
    assert req.tools[0].description == (
        "Note.\n\nThe input must follow this regex grammar:\n[a-z]+\n\nPut the tool's whole input, as free-form text, in the `input` argument."
    )
    no_syntax = {"type": "custom", "name": "note", "format": {"type": "grammar", "definition": "x"}}
    req = _shape().parse_request({"model": "m", "input": "hi", "tools": [no_syntax]})
    assert req.tools[0].description is not None and req.tools[0].description.startswith(
        "\n\nThe input must follow this grammar:\nx"
    )


@pytest.mark.parametrize(
    ("choice", "mode", "name"),
    [
        ({"type": "function", "name": "lookup", "namespace": "crm"}, "tool", "crm__lookup"),
        ({"type": "function", "name": "exec_command", "namespace": 3}, "tool", "exec_command"),
        ({"type": "allowed_tools", "mode": "required", "tools": []}, "required", None),
        ({"type": "allowed_tools", "mode": "auto", "tools": []}, "auto", None),
    ],
)
def test_responses_tool_choice_forms(choice: dict[str, Any], mode: str, name: str | None) -> None:
    req = _shape().parse_request(_responses(tool_choice=choice))
    assert req.tool_choice is not None and (req.tool_choice.mode, req.tool_choice.name) == (mode, name)


def test_responses_tool_choice_function_without_a_name_is_refused() -> None:
    with pytest.raises(GatewayError) as refused:
        _shape().parse_request(_responses(tool_choice={"type": "function"}))
    assert refused.value.param == "tool_choice"


def test_calls_of_odd_shapes_still_make_valid_items() -> None:
    shape = _shape()
    calls = [
        ToolCall("c1", "apply_patch", {"patch": "x"}),  # no `input`: the whole arguments, as JSON
        ToolCall("c2", "local_shell", {"command": "ls -la"}),  # a string: run by bash
        ToolCall("c3", "made_up", {"a": 1}),  # a tool the client never offered: a function call
    ]
    output = shape.build_response(ChatResponse("r", "m", calls, "tool_calls", Usage()), "m", "req")["output"]
    assert output[0]["input"] == '{"patch":"x"}'
    assert output[1]["action"] == {"type": "exec", "command": ["bash", "-lc", "ls -la"], "env": {}}
    assert output[2]["type"] == "function_call" and output[2]["name"] == "made_up" and "namespace" not in output[2]
    replayed = shape.parse_request(
        {"model": "m", "input": [{"type": "local_shell_call", "call_id": "c4", "action": "ls", "status": "completed"}]}
    )
    assert replayed.messages[0].parts == [ToolCall("c4", "local_shell", {"command": []})]


@pytest.mark.parametrize(
    ("reasoning", "openai", "anthropic", "gemini"),
    [
        (
            Reasoning(effort="turbo"),
            "turbo",
            8192,
            {"thinkingBudget": 8192},
        ),  # an effort the table lacks: medium where a budget is needed
        (Reasoning(budget_tokens=2048), "low", 2048, {"thinkingBudget": 2048}),
        (Reasoning(budget_tokens=2049), "medium", 2049, {"thinkingBudget": 2049}),
        (Reasoning(budget_tokens=40000), "xhigh", 40000, {"thinkingBudget": 40000}),
        (Reasoning(), None, None, None),
    ],
)
def test_thinking_at_the_edges_of_the_table(
    reasoning: Reasoning, openai: str | None, anthropic: int | None, gemini: dict[str, Any] | None
) -> None:
    assert build_chat(_req(reasoning), "up").get("reasoning_effort") == openai
    assert (build_anthropic(_req(reasoning), "up").get("thinking") or {}).get("budget_tokens") == anthropic
    assert build_gemini(_req(reasoning), "up").get("generationConfig", {}).get("thinkingConfig") == gemini


@pytest.mark.parametrize("level", ["", None, 3])
def test_an_empty_or_odd_effort_is_no_effort(level: Any) -> None:
    from anygate.core.reasoning import effort_name

    assert effort_name(level) is None


def test_client_tools_keep_their_given_name_and_description() -> None:
    from anygate.protocols.anthropic.client_tools import client_tool

    bash = client_tool("bash_20250124", None)
    assert bash is not None and bash.name == "bash" and bash.description == "Run a command in a persistent bash shell."
    editor = client_tool("text_editor_20250124", "str_replace_editor")
    assert (
        editor is not None
        and editor.name == "str_replace_editor"
        and editor.description
        and "replace a unique string" in editor.description
    )
    assert client_tool("web_search_20250305", "web_search") is None


def test_a_web_search_kept_off_the_live_web_is_no_server_tool_whichever_family_sends_it() -> None:
    from anygate.core.server_tools import server_tools

    assert server_tools([("web_search", {"external_web_access": False}), ("code_interpreter", {})]) == {
        "code_execution": "code_interpreter"
    }
    assert server_tools([("web_search_20250305", {}), ("web_search_preview", {})]) == {
        "web_search": "web_search_20250305"
    }  # the first one of a capability
    assert server_tools([("web_search_latest", {}), ("file_search", {})]) == {}  # not a dated Anthropic type, not a known one


# --- the newer client tools: shell and apply_patch ------------------------------------------------

NEWER = [{"type": "shell", "environment": {"type": "local"}}, {"type": "apply_patch"}]
NEWER_CALLS = [
    ToolCall("call_s", "shell", {"commands": ["ls", "cat a.txt"], "timeout_ms": 1000}),
    ToolCall("call_p", "apply_patch", {"type": "update_file", "path": "a.txt", "diff": "@@\n-a\n+b"}),
    ToolCall("call_d", "apply_patch", {"type": "delete_file", "path": "b.txt"}),
]
NEWER_ITEMS = [
    {
        "type": "shell_call",
        "call_id": "call_s",
        "action": {"commands": ["ls", "cat a.txt"], "timeout_ms": 1000},
        "status": "completed",
    },
    {
        "type": "apply_patch_call",
        "call_id": "call_p",
        "operation": {"type": "update_file", "path": "a.txt", "diff": "@@\n-a\n+b"},
        "status": "completed",
    },
    {
        "type": "apply_patch_call",
        "call_id": "call_d",
        "operation": {"type": "delete_file", "path": "b.txt"},
        "status": "completed",
    },
]


def test_shell_and_apply_patch_go_up_as_functions_and_come_back_as_their_items() -> None:
    body = {"model": "m", "input": "fix it", "tools": NEWER, "tool_choice": {"type": "apply_patch"}}
    shape = ResponsesShape(body, "m")
    req = shape.parse_request(body)
    assert [t.name for t in req.tools] == ["shell", "apply_patch"] and req.hosted_tools == []
    assert req.tools[0].parameters["required"] == ["commands"] and req.tools[1].parameters["required"] == ["type", "path"]
    assert req.tool_choice is not None and (req.tool_choice.mode, req.tool_choice.name) == ("tool", "apply_patch")
    whole = shape.build_response(ChatResponse("r", "m", list(NEWER_CALLS), "tool_calls", Usage()), "m", "req")
    assert _strip_ids(whole["output"]) == NEWER_ITEMS
    assert [i["id"].partition("_ag")[0] for i in whole["output"]] == ["sh", "apc", "apc"]
    writer = shape.stream_writer(req, "m", "req")
    raw = b"".join(
        writer.write(event)
        for index, call in enumerate(NEWER_CALLS)
        for event in (ToolCallStart(index, call.id, call.name), ToolCallDelta(index, orjson.dumps(call.arguments).decode()))
    )
    raw += writer.write(StreamEnd("tool_calls", Usage()))
    events = [orjson.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]
    assert _strip_ids([e["item"] for e in events if e["type"] == "response.output_item.done"]) == NEWER_ITEMS
    assert not [e for e in events if "arguments" in e["type"] or "custom_tool" in e["type"]]


def test_shell_and_apply_patch_calls_and_outputs_are_read_back() -> None:
    outputs = [
        {
            "type": "shell_call_output",
            "call_id": "call_s",
            "output": [
                {"stdout": "a.txt\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}},
                {"stdout": "", "stderr": "no such file", "outcome": {"type": "exit", "exit_code": 1}},
                {"stdout": "", "stderr": "", "outcome": {"type": "timeout"}},
            ],
        },
        {"type": "apply_patch_call_output", "call_id": "call_p", "status": "completed"},
        {"type": "apply_patch_call_output", "call_id": "call_d", "status": "failed", "output": "b.txt does not exist"},
    ]
    req = _shape().parse_request({"model": "m", "input": [*NEWER_ITEMS, *outputs], "tools": NEWER})
    assert req.messages[0].parts == [
        ToolCall("call_s", "shell", {"commands": ["ls", "cat a.txt"], "timeout_ms": 1000}),
        ToolCall("call_p", "apply_patch", {"type": "update_file", "path": "a.txt", "diff": "@@\n-a\n+b"}),
        ToolCall("call_d", "apply_patch", {"type": "delete_file", "path": "b.txt"}),
    ]
    assert req.messages[1].parts == [
        ToolResult(
            "call_s", [Text("a.txt\n\n[exit code 0]\n\n[stderr]\nno such file\n[exit code 1]\n\n[timed out]")], name="shell"
        ),
        ToolResult("call_p", [Text("completed")], name="apply_patch"),
        ToolResult("call_d", [Text("failed: b.txt does not exist")], name="apply_patch"),
    ]


def test_odd_shell_and_patch_arguments_still_make_valid_items() -> None:
    body = {"model": "m", "input": "go", "tools": NEWER}
    shape = ResponsesShape(body, "m")
    calls = [
        ToolCall("c1", "shell", {"commands": "ls -la", "max_output_length": 100}),
        ToolCall("c2", "apply_patch", {"path": 3}),
    ]
    output = shape.build_response(ChatResponse("r", "m", calls, "tool_calls", Usage()), "m", "req")["output"]
    assert output[0]["action"] == {"commands": ["ls -la"], "max_output_length": 100}
    assert output[1]["operation"] == {"type": "update_file", "path": "3", "diff": ""}
    items = [
        {"type": "shell_call", "call_id": "c3", "action": None},
        {"type": "apply_patch_call", "call_id": "c4", "operation": "x"},
    ]
    replayed = shape.parse_request({**body, "input": items})
    assert replayed.messages[0].parts == [ToolCall("c3", "shell", {"commands": []}), ToolCall("c4", "apply_patch", {})]


@pytest.mark.parametrize(
    ("item", "text"),
    [
        ({"type": "apply_patch_call_output", "call_id": "c"}, "completed"),  # no status: it went through
        ({"type": "apply_patch_call_output", "call_id": "c", "status": "failed", "output": ""}, "failed"),
        ({"type": "shell_call_output", "call_id": "c", "output": "garbled"}, ""),
        ({"type": "shell_call_output", "call_id": "c"}, ""),
        (
            {"type": "shell_call_output", "call_id": "c", "output": ["x", {"stdout": "ok", "outcome": "exit"}]},
            "ok\n[exit code None]",
        ),
    ],
)
def test_odd_outputs_of_shell_and_patch_read_as_plain_text(item: dict[str, Any], text: str) -> None:
    from anygate.protocols.openai.responses_tools import result_text

    assert result_text(item) == text


def test_a_patch_without_a_path_names_none() -> None:
    shape = ResponsesShape({"model": "m", "input": "go", "tools": NEWER}, "m")
    output = shape.build_response(
        ChatResponse("r", "m", [ToolCall("c", "apply_patch", {"type": "create_file"})], "tool_calls", Usage()), "m", "req"
    )
    assert output["output"][0]["operation"] == {"type": "create_file", "path": "", "diff": ""}


def test_long_namespaced_names_are_cut_to_64_characters_the_same_way_every_time() -> None:
    namespace = {
        "type": "namespace",
        "name": "mcp__a_very_long_server_name_for_tests",
        "description": "",
        "tools": [
            {"type": "function", "name": "a_rather_long_function_name_too", "parameters": {"type": "object"}},
        ],
    }
    shape = ResponsesShape({"model": "m", "input": "go", "tools": [namespace]}, "m")
    name = shape.parse_request({"model": "m", "input": "go", "tools": [namespace]}).tools[0].name
    assert len(name) == 64 and name.startswith("mcp__a_very_long_server_name_for_tests__a_rather_long_f")
    item = shape.build_response(ChatResponse("r", "m", [ToolCall("c", name, {})], "tool_calls", Usage()), "m", "req")["output"][0]
    assert (item["name"], item["namespace"]) == ("a_rather_long_function_name_too", namespace["name"])
    replayed = shape.parse_request({"model": "m", "input": [item], "tools": [namespace]})
    assert replayed.messages[0].parts == [ToolCall("c", name, {})]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": []}]}, "tools[0].type"),
        ({"tools": [{"type": {"a": 1}}]}, "tools[0].type"),
        ({"tools": [{"type": "namespace", "name": "n", "tools": [{}]}]}, "tools[0].tools[0].type"),
        ({"tool_choice": {"type": []}}, "tool_choice"),
    ],
)
def test_tool_types_that_are_not_strings_are_400s(body: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as refused:
        _shape().parse_request({"model": "m", "input": "hi", **body})
    assert refused.value.status == 400 and refused.value.param == param
