"""Local token counting: cl100k_base from the installed package, no network."""

from __future__ import annotations

from anygate.core.chat import ChatRequest, Image, Message, Text, Tool, ToolCall, ToolResult
from anygate.metering.token_count import PER_IMAGE, PER_MESSAGE, count_tokens_sync


def test_counts_text_exactly_as_cl100k() -> None:
    request = ChatRequest("m", [Message("user", [Text("Hello world, how are you?")])])
    assert count_tokens_sync(request) == 7 + PER_MESSAGE  # cl100k_base: Hello| world|,| how| are| you|?


def test_counts_every_kind_of_part() -> None:
    plain = ChatRequest("m", [Message("user", [Text("hi")])])
    rich = ChatRequest(
        "m",
        [
            Message("user", [Text("hi"), Image(media_type="image/png", data="AAAA")]),
            Message("assistant", [ToolCall("c1", "get_weather", {"city": "Oslo"})]),
            Message("user", [ToolResult("c1", [Text("sunny")])]),
        ],
        system=["be brief"],
        tools=[Tool("get_weather", "Weather", {"type": "object"})],
    )
    assert count_tokens_sync(rich) > count_tokens_sync(plain) + PER_IMAGE
