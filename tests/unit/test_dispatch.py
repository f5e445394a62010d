"""Retries and fallbacks follow the routing settings: attempts, waits and the deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from anygate.auth.keys import KeyRecord
from anygate.config import settings_from_data
from anygate.core.chat import ChatRequest, ChatResponse, Message, Text
from anygate.core.codec import ClientCodec
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.providers.base import Reply
from anygate.routing.table import ModelTable
from anygate.server.call import Call
from anygate.server.dispatch import Generation, obtain
from anygate.server.gateway import Gateway

KEY = KeyRecord("k", "n", "p", None, None, None, None, None, 0.0, None)


class _Flaky:
    """A provider that fails `failures` times (with `error`), then answers."""

    wire = OPENAI_CHAT

    def __init__(self, name: str, failures: int, error: GatewayError) -> None:
        self.name = name
        self.failures = failures
        self.error = error
        self.calls = 0

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return Reply(body=b"{}")


def _setup(routing: dict[str, Any], *providers: _Flaky) -> tuple[Call, list[Any]]:
    settings = settings_from_data(
        {
            "database": "sqlite:///:memory:",
            "routing": routing,
            "providers": {p.name: {"type": "mock"} for p in providers},
            "models": {"m": [{"provider": p.name, "model": p.name, "priority": i} for i, p in enumerate(providers)]},
        },
        "test",
    )
    gateway = Gateway(settings)
    gateway.models = ModelTable(settings, {p.name: p for p in providers})  # type: ignore[misc]
    call = Call(gateway, KEY, "req_1", time.time())
    return call, gateway.models.plan("m", KEY)


DOWN = GatewayError(ErrorKind.UPSTREAM, "down", code="upstream_unreachable")


async def test_attempts_follow_the_setting() -> None:
    flaky = _Flaky("a", 2, DOWN)
    call, plan = _setup({"max_attempts": 3}, flaky)
    target, _ = await obtain(Generation(call, OPENAI_CHAT, {"model": "m"}, False, lambda t: {"model": t.model}), plan)
    assert target.model == "a" and flaky.calls == 3 and call.attempts == 3
    once = _Flaky("b", 1, DOWN)
    call, plan = _setup({"max_attempts": 1}, once)
    with pytest.raises(GatewayError):
        await obtain(Generation(call, OPENAI_CHAT, {"model": "m"}, False, lambda t: {"model": t.model}), plan)
    assert once.calls == 1


async def test_a_retry_after_longer_than_allowed_moves_on_or_gives_up() -> None:
    busy = GatewayError(ErrorKind.RATE_LIMIT, "slow down", status=429, headers={"Retry-After": "30"})
    alone = _Flaky("a", 5, busy)
    call, plan = _setup({"max_attempts": 3, "max_retry_wait_seconds": 2}, alone)
    started = time.time()
    with pytest.raises(GatewayError) as caught:
        await obtain(Generation(call, OPENAI_CHAT, {"model": "m"}, False, lambda t: {"model": t.model}), plan)
    assert caught.value.status == 429 and alone.calls == 1 and time.time() - started < 1
    first, second = _Flaky("a", 5, busy), _Flaky("b", 0, busy)
    call, plan = _setup({"max_attempts": 3, "max_retry_wait_seconds": 2}, first, second)
    target, _ = await obtain(Generation(call, OPENAI_CHAT, {"model": "m"}, False, lambda t: {"model": t.model}), plan)
    assert target.model == "b" and first.calls == 1, "another target needs no wait"


class _WholeOnly:
    """A client family that never streams: it implements only ClientCodec."""

    name = "whole_only"

    def parse_request(self, body: dict[str, Any]) -> ChatRequest:
        return ChatRequest(body["model"], [Message("user", [Text(body["ask"])])])

    def build_response(self, resp: ChatResponse, model: str, request_id: str) -> dict[str, Any]:
        return {"said": "".join(p.text for p in resp.parts if isinstance(p, Text))}


async def test_a_family_that_never_streams_implements_only_the_whole_answer() -> None:
    codec: ClientCodec = _WholeOnly()
    upstream = _Flaky("a", 0, DOWN)
    call, plan = _setup({}, upstream)
    with pytest.raises(GatewayError) as refused:
        Generation(call, codec, {"model": "m", "ask": "hi"}, True, None)
    assert (refused.value.status, refused.value.param) == (400, "stream")
    generation = Generation(call, codec, {"model": "m", "ask": "hi"}, False, None)
    body, _ = await generation.upstream_request(plan[0])
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["model"] == "a"
    target, reply = await obtain(generation, plan)
    assert target is plan[0] and reply.body == b"{}" and upstream.calls == 1
    answer = ChatResponse("r1", "a", [Text("hello")], "stop", Usage(1, 1))
    assert codec.build_response(answer, "m", "req_1") == {"said": "hello"}
