"""The replay cache: what a turn keeps, which ids a shared store is asked about (once), and how a
replayed turn gets its signed thinking and signatures back."""

from __future__ import annotations

from anygate.core.chat import ChatRequest, Message, Part, Text, Thinking, ToolCall
from anygate.core.replay_cache import ReplayCache


def _replayed(*calls: str) -> ChatRequest:
    parts: list[Part] = [Thinking("unsigned reasoning the client echoed"), *(ToolCall(c, "f", {}) for c in calls)]
    return ChatRequest("m", [Message("user", [Text("hi")]), Message("assistant", parts)])


def test_a_turn_keeps_signed_thinking_on_its_first_call_and_each_signature() -> None:
    cache = ReplayCache()
    thinking = [Thinking("why", "sig"), Thinking("unsigned")]
    entries = cache.remember_turn([("a", None), ("b", "gem-sig"), ("c", None)], thinking)
    assert entries == [("a", None, [thinking[0]]), ("b", "gem-sig", None)]
    assert cache.remember_turn([("d", None)], [Thinking("unsigned")]) == []
    assert cache.unknown(_replayed("a", "b", "c", "d")) == [], "a turn of its own is never looked up"


def test_unknown_ids_are_asked_about_once() -> None:
    cache = ReplayCache()
    cache.remember_turn([("a", None)], [Thinking("why", "sig")])
    request = _replayed("a", "x", "y")
    assert cache.unknown(request) == ["x", "y"]
    cache.put([("y", "found-elsewhere", None)])
    cache.checked(["x", "y"])
    assert cache.unknown(request) == []
    cache.restore(request)
    assistant = request.messages[1].parts
    assert assistant[0] == Thinking("why", "sig")
    assert [p.signature for p in assistant if isinstance(p, ToolCall)] == [None, None, "found-elsewhere"]


def test_the_oldest_entries_go_first() -> None:
    cache = ReplayCache(max_entries=2)
    cache.checked(["a", "b", "c"])
    assert cache.unknown(_replayed("a", "b", "c")) == ["a"]
