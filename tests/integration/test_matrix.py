"""Every client family against every upstream type, whole and streamed: text, and a tool call."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from google import genai
from google.genai import types
from openai import OpenAI

from tests.gateway_process import GatewayProcess

# public model -> (text it answers "echo me" with, or None for any text; the tool call it makes)
UPSTREAMS = {
    "gpt-test": "Hello from the fake upstream!",
    "claude-echo": "Hello from the fake Claude.",
    "gemini-echo": "Hello from the fake Gemini,",
    "mock-fast": "echo me",
}
TOOL_MODELS = {
    "gpt-test": "scenario-tools",
    "claude-echo": "claude-tools",
    "gemini-echo": "gemini-tools",
    "mock-fast": "mock-fast",
}
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _openai(gateway: GatewayProcess, key: str, model: str, stream: bool, tools: bool) -> tuple[str, list[str], int]:
    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    extra: dict[str, Any] = (
        {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]} if tools else {}
    )
    messages: Any = [{"role": "user", "content": "echo me, use get_weather" if tools else "echo me"}]
    if not stream:
        done = client.chat.completions.create(model=model, messages=messages, **extra)
        calls = [c.function.name for c in done.choices[0].message.tool_calls or []]  # type: ignore[union-attr]
        return done.choices[0].message.content or "", calls, done.usage.total_tokens if done.usage else 0
    chunks = list(
        client.chat.completions.create(
            model=model, messages=messages, stream=True, stream_options={"include_usage": True}, **extra
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [
        d.function.name for c in chunks for ch in c.choices for d in ch.delta.tool_calls or [] if d.function and d.function.name
    ]
    return text, calls, chunks[-1].usage.total_tokens if chunks[-1].usage else 0


def _anthropic(gateway: GatewayProcess, key: str, model: str, stream: bool, tools: bool) -> tuple[str, list[str], int]:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    extra: dict[str, Any] = {"tools": [{"name": "get_weather", "input_schema": PARAMS}]} if tools else {}
    messages: Any = [{"role": "user", "content": "echo me, use get_weather" if tools else "echo me"}]
    if stream:
        with client.messages.stream(model=model, max_tokens=200, messages=messages, **extra) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(model=model, max_tokens=200, messages=messages, **extra)
    text = "".join(b.text for b in message.content if b.type == "text")
    calls = [b.name for b in message.content if b.type == "tool_use"]
    return text, calls, message.usage.input_tokens + message.usage.output_tokens


def _gemini(gateway: GatewayProcess, key: str, model: str, stream: bool, tools: bool) -> tuple[str, list[str], int]:
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", parameters_json_schema=PARAMS)])]
        if tools
        else None,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    prompt = "echo me, use get_weather" if tools else "echo me"
    responses = (
        list(client.models.generate_content_stream(model=model, contents=prompt, config=config))
        if stream
        else [client.models.generate_content(model=model, contents=prompt, config=config)]
    )
    text = "".join(
        p.text or ""
        for r in responses
        for c in r.candidates or []
        for p in (c.content.parts if c.content else None) or []
        if not p.thought
    )
    calls = [fc.name or "" for r in responses for fc in r.function_calls or []]
    usage = responses[-1].usage_metadata
    return text, calls, (usage.total_token_count or 0) if usage else 0


CLIENTS = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("client", list(CLIENTS))
def test_text(gateway: GatewayProcess, api_key: str, client: str, model: str, stream: bool) -> None:
    text, calls, tokens = CLIENTS[client](gateway, api_key, model, stream, False)
    assert text.startswith(UPSTREAMS[model]) and not calls
    assert tokens > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("model", list(TOOL_MODELS))
@pytest.mark.parametrize("client", list(CLIENTS))
def test_tool_call(gateway: GatewayProcess, api_key: str, client: str, model: str, stream: bool) -> None:
    _, calls, tokens = CLIENTS[client](gateway, api_key, TOOL_MODELS[model], stream, True)
    assert calls and calls[0] == "get_weather"
    assert tokens > 0


def test_the_matrix_leaves_valid_json_arguments(gateway: GatewayProcess, api_key: str) -> None:
    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    tools: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]
    for model in TOOL_MODELS.values():
        chunks = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "use get_weather"}], tools=tools, stream=True
        )
        arguments: dict[int, str] = {}
        for chunk in chunks:
            for choice in chunk.choices:
                for delta in choice.delta.tool_calls or []:
                    arguments[delta.index] = arguments.get(delta.index, "") + (
                        (delta.function and delta.function.arguments) or ""
                    )
        assert arguments and all(isinstance(json.loads(a), dict) for a in arguments.values()), model
