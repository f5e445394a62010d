"""The quirk profiles of the OpenAI-compatible upstreams: what `adapt` makes of a chat body."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from anygate.providers import adapters, declared_kinds
from anygate.providers.openai.profile import OPENAI, Profile, adapt, short_id

MISTRAL = Profile(
    "https://mistral.test/v1",
    renames={"seed": "random_seed"},
    drops=frozenset({"stream_options", "user"}),
    tool_choice={"required": "any"},
    tool_call_ids="alnum9",
)
DEEPSEEK = Profile("https://deepseek.test", reasoning_replay=True, effort="thinking_object")


def _conversation() -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "toolu_01A09q90qw90", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "toolu_01A09q90qw90", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny."},
            "not a message",
        ],
    }


def test_openai_itself_and_exact_servers_need_no_change() -> None:
    assert not OPENAI.adapts and not adapters()["vllm"].build.profile.adapts  # type: ignore[attr-defined]
    assert MISTRAL.adapts and DEEPSEEK.adapts and Profile("https://x.test").adapts, "max_tokens is a change"


def test_the_output_cap_goes_where_the_upstream_reads_it() -> None:
    plain = Profile("https://x.test")
    assert adapt(plain, {"max_completion_tokens": 50}) == {"max_tokens": 50}
    assert adapt(plain, {"max_completion_tokens": 50, "max_tokens": 20}) == {"max_tokens": 20}, "the client's own max_tokens wins"
    assert adapt(Profile("https://x.test", max_tokens_field="max_completion_tokens"), {"max_completion_tokens": 50}) == {
        "max_completion_tokens": 50
    }


def test_fields_are_renamed_dropped_and_respelled() -> None:
    body = {"seed": 7, "stream_options": {"include_usage": True}, "user": "u1", "tool_choice": "required", "temperature": 0.2}
    assert adapt(MISTRAL, body) == {"random_seed": 7, "tool_choice": "any", "temperature": 0.2}
    assert adapt(MISTRAL, {"seed": 7, "random_seed": 3}) == {"random_seed": 3}
    assert adapt(MISTRAL, {"tool_choice": "auto"})["tool_choice"] == "auto"
    forced = {"type": "function", "function": {"name": "w"}}
    assert adapt(MISTRAL, {"tool_choice": forced})["tool_choice"] == forced


@pytest.mark.parametrize(
    ("effort", "asked", "sent"),
    [
        ("reasoning_effort", "high", {"reasoning_effort": "high"}),
        ("reasoning_object", "low", {"reasoning": {"effort": "low"}}),
        ("enable_thinking", "minimal", {"enable_thinking": True}),
        ("enable_thinking", "none", {"enable_thinking": False}),
        ("thinking_object", "medium", {"thinking": {"type": "enabled"}}),
        ("thinking_object", "none", {"thinking": {"type": "disabled"}}),
        ("drop", "high", {}),
    ],
)
def test_a_reasoning_effort_is_sent_the_upstreams_way(effort: Any, asked: str, sent: dict[str, Any]) -> None:
    assert adapt(Profile("https://x.test", effort=effort), {"reasoning_effort": asked}) == sent
    assert adapt(Profile("https://x.test", effort=effort), {"temperature": 1}) == {"temperature": 1}, "none asked, none sent"


def test_a_clients_own_reasoning_fields_are_kept() -> None:
    assert adapt(
        Profile("https://x.test", effort="reasoning_object"), {"reasoning_effort": "low", "reasoning": {"max_tokens": 9}}
    ) == {"reasoning": {"max_tokens": 9}}
    assert adapt(DEEPSEEK, {"reasoning_effort": "high", "thinking": {"type": "disabled"}}) == {"thinking": {"type": "disabled"}}


def test_tool_call_ids_become_nine_letters_and_digits_the_same_on_both_sides() -> None:
    body = _conversation()
    before = copy.deepcopy(body)
    out = adapt(MISTRAL, body)
    call_id = out["messages"][1]["tool_calls"][0]["id"]
    assert len(call_id) == 9 and call_id.isalnum() and out["messages"][2]["tool_call_id"] == call_id
    assert (
        call_id == short_id("toolu_01A09q90qw90")
        and short_id("abcDEF123") == "abcDEF123"
        and short_id("abc_EF123") != "abc_EF123"
    )
    assert out["messages"][3] == body["messages"][3] and out["messages"][4] == "not a message"
    assert body == before, "the client's body is not changed in place (a fallback may need it)"
    assert all(len(short_id(f"call-{i}")) == 9 and short_id(f"call-{i}").isalnum() for i in range(300))


def test_malformed_tool_calls_go_on_as_they_are_for_the_upstream_to_judge() -> None:
    odd: list[Any] = ["junk", {"type": "function"}, {"id": 5}]
    out = adapt(MISTRAL, {"messages": [{"role": "assistant", "tool_calls": odd}, {"role": "tool", "content": "x"}]})
    assert out["messages"] == [{"role": "assistant", "tool_calls": odd}, {"role": "tool", "content": "x"}]


def test_an_assistant_turn_with_tool_calls_brings_its_reasoning_back() -> None:
    body = _conversation()
    out = adapt(DEEPSEEK, body)
    assert out["messages"][1]["reasoning_content"] == "" and "reasoning_content" not in out["messages"][3]
    body["messages"][1]["reasoning_content"] = "I should call w."
    assert adapt(DEEPSEEK, body)["messages"][1]["reasoning_content"] == "I should call w."
    assert out["messages"][1]["tool_calls"][0]["id"] == out["messages"][2]["tool_call_id"] == "toolu_01A09q90qw90", (
        "DeepSeek takes any id"
    )


def test_every_provider_folder_registers_its_own_type() -> None:
    assert {name: adapter.type for name, adapter in adapters().items()} == {name: name for name in adapters()}
    from anygate.config import provider_types

    assert sorted(adapters()) == list(provider_types())


def test_a_type_passes_through_only_the_routes_its_profile_names() -> None:
    from anygate.protocols.openai.passthrough import _group
    from anygate.providers.base import PASS_THROUGH_ROUTES

    built = {name: adapter.build for name, adapter in adapters().items()}
    assert built["openai"].passes == built["mock"].passes == PASS_THROUGH_ROUTES  # type: ignore[union-attr]
    assert built["groq"].passes == {"audio", "files", "batches"} and built["vllm"].passes == {"audio"}  # type: ignore[union-attr]
    assert not hasattr(built["mistral"], "pass_through") and not hasattr(built["deepseek"], "pass_through")
    assert (
        not hasattr(built["deepseek"], "generate_images")
        and hasattr(built["xai"], "generate_images")
        and not hasattr(built["xai"], "embed")
    )
    assert [
        _group(r) for r in ("POST /openai/v1/audio/speech", "GET /openai/v1/files/file-1/content", "POST /openai/v1/threads")
    ] == ["audio", "files", "threads"]


async def test_azure_calls_go_to_the_deployment_or_the_v1_api() -> None:
    import aiohttp

    from anygate.providers.azure.adapter import AzureCompatible
    from anygate.providers.azure.settings import AzureSettings

    build = adapters()["azure"].build
    assert build is not None
    async with aiohttp.ClientSession() as http:
        versioned = build(
            "az",
            AzureSettings(type="azure", base_url="https://res.openai.azure.com/", api_key="k1", api_version="2024-10-21"),
            http,
        )
        v1 = build("az1", AzureSettings(type="azure", base_url="https://res.openai.azure.com", api_key="k2"), http)
        given_v1 = build(
            "az2", AzureSettings(type="azure", base_url="https://res.openai.azure.com/openai/v1", api_key="k3"), http
        )
    assert isinstance(versioned, AzureCompatible) and isinstance(v1, AzureCompatible) and isinstance(given_v1, AzureCompatible)
    deployment = "https://res.openai.azure.com/openai/deployments/my%20deploy/embeddings?api-version=2024-10-21"
    assert versioned._url("embeddings", "my deploy") == deployment
    assert versioned._url("responses", "gpt") == "https://res.openai.azure.com/openai/responses?api-version=2024-10-21"
    assert (
        v1._url("embeddings", "gpt") == given_v1._url("embeddings", "gpt") == "https://res.openai.azure.com/openai/v1/embeddings"
    )
    assert v1._chat_url == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert versioned._upstream._headers["api-key"] == "k1" and "Authorization" not in versioned._upstream._headers


def test_qwen_thinking_is_off_on_a_whole_call_unless_the_client_says_otherwise() -> None:
    qwen = Profile("https://qwen.test", effort="enable_thinking", thinking_streams_only=True)
    assert adapt(qwen, {"reasoning_effort": "high"}) == {"enable_thinking": False}
    assert adapt(qwen, {"reasoning_effort": "high", "stream": True}) == {"enable_thinking": True, "stream": True}
    assert adapt(qwen, {"messages": []}) == {"messages": [], "enable_thinking": False}
    assert adapt(qwen, {"enable_thinking": True})["enable_thinking"] is True, "the client's own choice stands"


def _offered(adapter: Any) -> set[str]:
    """What a provider type's classes can do, read from their methods and their task kinds."""
    offered: set[str] = set()
    build, tasks = adapter.build, adapter.build_tasks
    if build is not None:
        offered.add("chat")
        methods = {
            "embed": "embeddings",
            "generate_images": "images",
            "send_responses": "responses",
            "count_tokens": "count_tokens",
        }
        offered |= {capability for method, capability in methods.items() if hasattr(build, method)}
        if hasattr(build, "pass_through"):
            offered |= set(build.passes)
    if tasks is not None:
        offered |= {f"task:{kind}" for kind in tasks.kinds}
        offered |= {
            capability for method, capability in (("draw_images", "images"), ("video_task", "videos")) if hasattr(tasks, method)
        }
    return offered


def test_each_type_declares_as_data_exactly_what_its_classes_serve() -> None:
    for name, adapter in adapters().items():
        assert adapter.capabilities == _offered(adapter), name
    assert adapters()["mistral"].capabilities == {"chat", "embeddings"}
    assert {"task:video-synthesis", "images", "videos"} <= adapters()["dashscope"].capabilities
    assert declared_kinds("image_kinds") == ("image-generation", "generations")
    assert declared_kinds("video_kinds") == ("video-synthesis", "image2video", "omni-video", "text2video")
