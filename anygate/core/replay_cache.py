"""What a client family cannot carry from one turn to the next, kept by tool-call id for the replay.

An OpenAI or Anthropic client has nowhere to keep a Gemini thought signature, and an OpenAI client
nowhere to keep Anthropic thinking blocks; their upstreams refuse the next turn without them. The
gateway remembers them when it translates an answer and puts them back when the client sends the
tool calls again. Bounded: the oldest entries go first. This is each process's own copy; the database
shares them between workers and instances and keeps them across restarts (`store/replay.py`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from anygate.core.chat import ChatRequest, ChatResponse, Thinking, ToolCall

MAX_ENTRIES = 50_000
V = TypeVar("V")


Entry = tuple[str, str | None, list[Thinking] | None]
"""What one tool call needs at its replay: its id, its signature, and (for a turn's first call) the
signed thinking that came before it."""


class ReplayCache:
    """Signatures by tool-call id, and the thinking that came before each turn's first tool call; also
    the ids known to have nothing kept, so a shared store is asked about each id once."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._signatures: OrderedDict[str, str] = OrderedDict()
        self._thinking: OrderedDict[str, list[Thinking]] = OrderedDict()
        self._checked: OrderedDict[str, None] = OrderedDict()  # ids looked up and found without entries

    def _put(self, store: OrderedDict[str, V], key: str, value: V) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > self._max:
            store.popitem(last=False)

    def put(self, entries: list[Entry]) -> None:
        """Keep entries (of this instance's answers, or read from the shared store)."""
        for call_id, signature, thinking in entries:
            if signature:
                self._put(self._signatures, call_id, signature)
            if thinking:
                self._put(self._thinking, call_id, thinking)

    def remember_turn(self, calls: list[tuple[str, str | None]], thinking: list[Thinking]) -> list[Entry]:
        """Keep what a turn's tool calls, (id, signature) in order, will need when they are replayed,
        with the thinking that preceded them; returns the entries kept, to be shared."""
        signed = [t for t in thinking if t.signature or t.redacted is not None]
        entries: list[Entry] = [
            (call_id, signature, signed if i == 0 and signed else None)
            for i, (call_id, signature) in enumerate(calls)
            if signature or (i == 0 and signed)
        ]
        self.put(entries)
        self.checked([call_id for call_id, _ in calls])  # ids this process made: nothing more to ask about
        return entries

    def remember(self, answer: ChatResponse) -> list[Entry]:
        """Keep what a whole answer's tool calls will need when they are replayed; the entries kept."""
        calls = [(p.id, p.signature) for p in answer.parts if isinstance(p, ToolCall)]
        return self.remember_turn(calls, [p for p in answer.parts if isinstance(p, Thinking)]) if calls else []

    def unknown(self, request: ChatRequest) -> list[str]:
        """Ids of replayed tool calls that this cache knows nothing about (neither kept nor checked)."""
        ids = []
        for message in request.messages:
            if message.role == "assistant":
                for part in message.parts:
                    if isinstance(part, ToolCall) and part.signature is None:
                        call_id = part.id
                        if call_id not in self._signatures and call_id not in self._thinking and call_id not in self._checked:
                            ids.append(call_id)
        return ids

    def checked(self, ids: list[str]) -> None:
        """Note ids that the shared store was asked about (those it had are `put` as well)."""
        for call_id in ids:
            self._put(self._checked, call_id, None)

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
