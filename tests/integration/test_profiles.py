"""Every OpenAI-compatible provider type (its quirk profile) through every client family, with the
official SDKs, against a fake of that upstream that enforces its quirks: a tool conversation of two
turns (the call, then its result), whole and streamed, with thinking asked for; and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.fakes.compatible_upstream import THINKING, FakeCompatible
from tests.fakes.server_thread import ServerThread
from tests.gateway_process import GatewayProcess

PROFILES = [
    "deepseek",
    "mistral",
    "groq",
    "xai",
    "openrouter",
    "together",
    "fireworks",
    "qwen",
    "vllm",
    "ollama",
    "ollamanative",
    "azure",
    "azurev1",
]
# provider names that are not their type: Azure's v1 API (no api_version), Ollama's own /api/chat
TYPES = {"azurev1": "azure", "ollamanative": "ollama"}
EXTRA: dict[str, dict[str, Any]] = {
    "azure": {"api_version": "2024-10-21"},
    "ollamanative": {"native_chat": True, "num_ctx": 8192},
}
MAX_COMPLETION_TOKENS = {"groq", "vllm", "azure", "azurev1"}  # the profiles that take OpenAI's field for the output cap
THINKS = {
    "deepseek",
    "qwen",
    "openrouter",
    "xai",
    "vllm",
    "ollamanative",
}  # they think when asked for an effort (deepseek always)
FAMILIES = ["openai", "responses", "anthropic", "gemini"]
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
PROMPT = "What is the weather in Paris? Use get_weather."
RESULT = "sunny, 21 C"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCompatible]:
    served = FakeCompatible()
    server = ServerThread(served.app).start()
    served.url = server.url  # type: ignore[attr-defined]
    yield served
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake: FakeCompatible) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("profiles")
    url = fake.url  # type: ignore[attr-defined]
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {
            p: {
                "type": TYPES.get(p, p),
                "base_url": f"{url}/{p}" + ("/v1" if p == "ollamanative" else ""),
                "api_key": f"sk-{p}-key",
                "first_byte_timeout_seconds": 5,
                **EXTRA.get(p, {}),
            }
            for p in PROFILES
        },
        "models": {
            **{f"{p}-chat": [{"provider": p, "model": f"{p}-model", "input_price": 1.0, "output_price": 2.0}] for p in PROFILES},
            **{f"{p}-bad": [{"provider": p, "model": f"{p}-model-400"}] for p in PROFILES},
        },
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key()["key"])


class Turn:
    """What one turn gave the client: its tool calls (id, name, arguments), text and thinking."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.text = ""
        self.thinking = ""
        self.history: Any = None  # the assistant's turn as this family sends it back
        self.usage = (0, 0)  # the tokens in and out the client was told of for the second (whole) call


def _openai_chat(gateway: GatewayProcess, key: str, model: str, stream: bool) -> tuple[Turn, str]:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    tools: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]
    asked: Any = {"tools": tools, "tool_choice": "required", "reasoning_effort": "high", "seed": 7}
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    turn = Turn()
    if stream:
        ids: dict[int, list[str]] = {}
        for chunk in client.chat.completions.create(model=model, messages=messages, stream=True, **asked):
            for choice in chunk.choices:
                extra = choice.delta.model_extra or {}
                turn.thinking += extra.get("reasoning_content") or extra.get("reasoning") or ""
                for d in choice.delta.tool_calls or []:
                    entry = ids.setdefault(d.index, ["", "", ""])
                    entry[0] = d.id or entry[0]
                    entry[1] = (d.function.name if d.function else None) or entry[1]
                    entry[2] += (d.function.arguments if d.function else None) or ""
        turn.calls = [(i, n, json.loads(a)) for i, n, a in ids.values()]
    else:
        done = client.chat.completions.create(model=model, messages=messages, **asked)
        message = done.choices[0].message
        extra = message.model_extra or {}
        turn.thinking = extra.get("reasoning_content") or extra.get("reasoning") or ""
        turn.calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]  # type: ignore[union-attr]
    # an OpenAI client keeps no thinking: the assistant's turn goes back without it
    calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for i, n, a in turn.calls]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": turn.calls[0][0], "content": RESULT},
    ]
    final = client.chat.completions.create(model=model, messages=messages, tools=tools)
    turn.usage = (final.usage.prompt_tokens, final.usage.completion_tokens) if final.usage else (0, 0)
    return turn, final.choices[0].message.content or ""


def _responses(gateway: GatewayProcess, key: str, model: str, stream: bool) -> tuple[Turn, str]:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": PARAMS}]
    given: list[Any] = [{"role": "user", "content": PROMPT}]
    asked: Any = {"tools": tools, "tool_choice": "required", "reasoning": {"effort": "high"}, "store": False}
    if stream:
        with client.responses.stream(model=model, input=given, **asked) as events:
            response = events.get_final_response()
    else:
        response = client.responses.create(model=model, input=given, **asked)
    turn = Turn()
    for item in response.output:
        if item.type == "function_call":
            turn.calls.append((item.call_id, item.name, json.loads(item.arguments)))
        elif item.type == "reasoning":
            turn.thinking += "".join(s.text for s in item.summary)
    given += [item.model_dump(exclude_none=True) for item in response.output]
    given.append({"type": "function_call_output", "call_id": turn.calls[0][0], "output": RESULT})
    final = client.responses.create(model=model, input=given, tools=tools, store=False)
    turn.usage = (final.usage.input_tokens, final.usage.output_tokens) if final.usage else (0, 0)
    return turn, final.output_text


def _anthropic(gateway: GatewayProcess, key: str, model: str, stream: bool) -> tuple[Turn, str]:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    tools: Any = [{"name": "get_weather", "input_schema": PARAMS}]
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    asked: Any = {
        "tools": tools,
        "tool_choice": {"type": "any"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "max_tokens": 2048,
    }
    if stream:
        with client.messages.stream(model=model, messages=messages, **asked) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(model=model, messages=messages, **asked)
    turn = Turn()
    for block in message.content:
        if block.type == "tool_use":
            turn.calls.append((block.id, block.name, dict(block.input)))  # type: ignore[arg-type]
        elif block.type == "thinking":
            turn.thinking += block.thinking
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": turn.calls[0][0], "content": RESULT}]},
    ]
    final = client.messages.create(model=model, messages=messages, tools=tools, max_tokens=256)
    turn.usage = (final.usage.input_tokens, final.usage.output_tokens)
    return turn, "".join(b.text for b in final.content if b.type == "text")


def _gemini(gateway: GatewayProcess, key: str, model: str, stream: bool) -> tuple[Turn, str]:
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", parameters_json_schema=PARAMS)])
    config = types.GenerateContentConfig(
        tools=[tool],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode.ANY)
        ),
        thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=PROMPT)])]
    chunks = (
        list(client.models.generate_content_stream(model=model, contents=contents, config=config))
        if stream
        else [client.models.generate_content(model=model, contents=contents, config=config)]
    )
    parts = [
        p for c in chunks for p in (c.candidates[0].content.parts if c.candidates and c.candidates[0].content else None) or []
    ]
    turn = Turn()
    for part in parts:
        if part.function_call:
            turn.calls.append((part.function_call.id or "", part.function_call.name or "", dict(part.function_call.args or {})))
        elif part.thought and part.text:
            turn.thinking += part.text
    answer = types.Part.from_function_response(name="get_weather", response={"result": RESULT})
    contents += [types.Content(role="model", parts=parts), types.Content(role="user", parts=[answer])]
    final = client.models.generate_content(model=model, contents=contents, config=types.GenerateContentConfig(tools=[tool]))
    meta = final.usage_metadata
    turn.usage = (meta.prompt_token_count or 0, meta.candidates_token_count or 0) if meta else (0, 0)
    return turn, final.text or ""


CONVERSATIONS = {"openai": _openai_chat, "responses": _responses, "anthropic": _anthropic, "gemini": _gemini}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", PROFILES)
def test_a_tool_conversation_with_thinking(
    gateway: GatewayProcess, key: str, fake: FakeCompatible, profile: str, family: str, stream: bool
) -> None:
    turn, final = CONVERSATIONS[family](gateway, key, f"{profile}-chat", stream)
    assert [(n, a) for _, n, a in turn.calls] == [("get_weather", {"city": "Paris"})], turn.calls
    assert final == f"The weather in Paris is fine (from {profile}).", final
    assert turn.usage == (21, 9), f"the upstream's usage reaches the {family} client"
    thinks = profile in THINKS and (stream or profile != "qwen")  # Qwen thinks in streams only
    assert turn.thinking == (THINKING if thinks else ""), f"{profile} thinking reaches the {family} client as its own"
    first, second = fake.requests[profile][-2:]
    if profile == "ollamanative":  # its own API: no tool_choice, thinking asked with `think`, options
        assert first["think"] in ("high", "low") and first["options"]["num_ctx"] == 8192 and first["stream"] is stream
        assert [m["tool_name"] for m in second["messages"] if m["role"] == "tool"] == ["get_weather"]
        assert [c["function"]["arguments"] for m in second["messages"] for c in m.get("tool_calls") or []] == [{"city": "Paris"}]
        return
    assert first["tool_choice"] == ("any" if profile == "mistral" else "required")
    if profile == "mistral":
        assert "stream_options" not in first and "max_completion_tokens" not in first and "reasoning_effort" not in first
        assert all(len(c["id"]) == 9 for m in second["messages"] for c in m.get("tool_calls") or [])


def test_each_profile_sends_its_own_field_names(gateway: GatewayProcess, key: str, fake: FakeCompatible) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    for profile in PROFILES:
        client.chat.completions.create(
            model=f"{profile}-chat",
            messages=[{"role": "user", "content": "hi"}],
            seed=7,
            max_completion_tokens=50,
            reasoning_effort="low",
        )
    sent = {p: fake.requests[p][-1] for p in PROFILES}
    native = sent.pop("ollamanative")
    assert native["options"] == {"num_predict": 50, "seed": 7, "num_ctx": 8192} and native["think"] == "low"
    assert sent["mistral"]["random_seed"] == 7 and "seed" not in sent["mistral"] and sent["mistral"]["max_tokens"] == 50
    assert sent["deepseek"]["thinking"] == {"type": "enabled"} and "reasoning_effort" not in sent["deepseek"]
    assert sent["openrouter"]["reasoning"] == {"effort": "low"} and "reasoning_effort" not in sent["openrouter"]
    assert sent["qwen"]["enable_thinking"] is False and sent["qwen"]["max_tokens"] == 50, "off on a whole call"
    assert {p: sent[p]["max_completion_tokens"] for p in MAX_COMPLETION_TOKENS} == dict.fromkeys(MAX_COMPLETION_TOKENS, 50)
    assert {p: s.get("max_tokens") for p, s in sent.items() if p not in MAX_COMPLETION_TOKENS} == dict.fromkeys(
        set(PROFILES) - MAX_COMPLETION_TOKENS - {"ollamanative"}, 50
    )
    assert sent["azure"]["model"] == "azure-model", "the deployment in the URL is the target's model"


def test_a_deepseek_client_that_keeps_its_thinking_sends_it_back(gateway: GatewayProcess, key: str, fake: FakeCompatible) -> None:
    turn, _ = _anthropic(gateway, key, "deepseek-chat", stream=False)
    assert turn.thinking == THINKING
    replayed = [m for m in fake.requests["deepseek"][-1]["messages"] if m.get("tool_calls")]
    assert [m["reasoning_content"] for m in replayed] == [THINKING], "the Anthropic thinking block goes back as reasoning_content"


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", PROFILES)
def test_an_upstream_refusal_reaches_the_client_in_its_shape(
    gateway: GatewayProcess, key: str, profile: str, family: str
) -> None:
    model = f"{profile}-bad"
    if family == "gemini":
        client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
        with pytest.raises(genai_errors.ClientError) as failed:
            client.models.generate_content(model=model, contents="hi")
        assert failed.value.code == 400 and "temperature" in str(failed.value.message)
        return
    if family == "anthropic":
        with pytest.raises(anthropic.BadRequestError) as refused:
            anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0).messages.create(
                model=model, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        assert "temperature" in str(refused.value)
        return
    chat = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        if family == "openai":
            chat.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        else:
            chat.responses.create(model=model, input="hi")
    assert "temperature" in str(bad.value)


def test_mistral_refusing_a_field_it_does_not_know_is_shown_as_it_said(gateway: GatewayProcess, key: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(
            model="mistral-chat", messages=[{"role": "user", "content": "hi"}], extra_body={"top_k": 5}
        )
    assert (
        refused.value.status_code in (400, 422)
        and "top_k" in str(refused.value)
        and "Extra inputs are not permitted" in str(refused.value)
    )


def test_mistral_takes_a_conversation_whose_tool_call_ids_were_made_elsewhere(
    gateway: GatewayProcess, key: str, fake: FakeCompatible
) -> None:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    tools: Any = [{"name": "get_weather", "input_schema": PARAMS}]
    foreign = "toolu_01A09q90qw90lq917835lq9"  # an id Claude made, earlier in the conversation
    messages: Any = [
        {"role": "user", "content": PROMPT},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": foreign, "name": "get_weather", "input": {"city": "Paris"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": foreign, "content": RESULT}]},
    ]
    final = client.messages.create(model="mistral-chat", messages=messages, tools=tools, max_tokens=256)
    assert "".join(b.text for b in final.content if b.type == "text") == "The weather in Paris is fine (from mistral)."
    sent = fake.requests["mistral"][-1]["messages"]
    [call_id] = [c["id"] for m in sent for c in m.get("tool_calls") or []]
    assert len(call_id) == 9 and call_id.isalnum() and [m["tool_call_id"] for m in sent if m["role"] == "tool"] == [call_id]


def test_a_route_no_profile_here_serves_is_a_clear_503(gateway: GatewayProcess, key: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.moderations.create(input="hello")
    assert refused.value.status_code == 503 and "No provider here serves POST /openai/v1/moderations" in str(refused.value)
    with pytest.raises(openai.BadRequestError) as no_embeddings:
        client.embeddings.create(model="deepseek-chat", input="hello")
    assert "embeddings" in str(no_embeddings.value)


def test_every_openai_compatible_type_is_in_this_run() -> None:
    from anygate.providers import adapters
    from anygate.providers.openai.adapter import OpenAICompatible

    compatible = {t for t, a in adapters().items() if isinstance(a.build, type) and issubclass(a.build, OpenAICompatible)}
    assert compatible - {"openai"} == {TYPES.get(p, p) for p in PROFILES}, "a profile without its conformance run"
