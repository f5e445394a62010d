"""What a client family cannot carry from one turn to the next, kept by tool-call id for the replay.

An OpenAI or Anthropic client has nowhere to keep a Gemini thought signature, and an OpenAI client
nowhere to keep Anthropic thinking blocks; their upstreams refuse the next turn without them. The
gateway remembers them when it translates an answer and puts them back when the client sends the
tool calls again. Bounded: the oldest entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from anygate.core.chat import ChatRequest, ChatResponse, Thinking, ToolCall

MAX_ENTRIES = 50_000
V = TypeVar("V")


class ReplayCache:
    """Signatures by tool-call id, and the thinking that came before each turn's first tool call."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._signatures: OrderedDict[str, str] = OrderedDict()
        self._thinking: OrderedDict[str, list[Thinking]] = OrderedDict()

    def _put(self, store: OrderedDict[str, V], key: str, value: V) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > self._max:
            store.popitem(last=False)

    def remember_call(self, call_id: str, signature: str | None) -> None:
        """Keep a tool call's signature."""
        if signature:
            self._put(self._signatures, call_id, signature)

    def remember_thinking(self, first_call_id: str, thinking: list[Thinking]) -> None:
        """Keep the signed thinking that preceded a turn's tool calls."""
        signed = [t for t in thinking if t.signature or t.redacted is not None]
        if signed:
            self._put(self._thinking, first_call_id, signed)

    def remember(self, answer: ChatResponse) -> None:
        """Keep what an answer's tool calls will need when they are replayed."""
        calls = [p for p in answer.parts if isinstance(p, ToolCall)]
        for call in calls:
            self.remember_call(call.id, call.signature)
        if calls:
            self.remember_thinking(calls[0].id, [p for p in answer.parts if isinstance(p, Thinking)])

    def restore(self, request: ChatRequest) -> None:
        """Put back signatures and thinking that the client's family could not carry."""
        for message in request.messages:
            if message.role != "assistant":
                continue
            calls = [p for p in message.parts if isinstance(p, ToolCall)]
            for call in calls:
                if call.signature is None:
                    call.signature = self._signatures.get(call.id)
            signed = any(isinstance(p, Thinking) and (p.signature or p.redacted is not None) for p in message.parts)
            cached = self._thinking.get(calls[0].id) if calls and not signed else None
            if cached:  # the signed originals replace whatever unsigned reasoning text the client sent back
                message.parts[:] = [*cached, *(p for p in message.parts if not isinstance(p, Thinking))]
