"""Getting an answer from a model's targets: one after another, with retries and fallbacks, until one
answers. Everything here happens before the first byte reaches the client, so every failure can
still be hidden; after that, a failure ends the stream with the family's error event instead."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from anygate.core.chat import ChatRequest
from anygate.core.codec import ClientCodec
from anygate.core.errors import GatewayError, invalid_request
from anygate.metering.record import record_failure
from anygate.providers.base import Reply
from anygate.routing.table import Target
from anygate.server import replay
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.image_fetch import inline_remote_images

log = logging.getLogger(__name__)
_RETRYABLE_CODES = {"upstream_unreachable", "upstream_timeout", "upstream_error", "upstream_auth_failed"}


def retryable(err: GatewayError) -> bool:
    """Whether another attempt (elsewhere, or later) may succeed: the upstream failed, not the request."""
    return err.code in _RETRYABLE_CODES or err.status == 429


@dataclass(frozen=True, slots=True)
class NativeRoute:
    """Where a client format that no provider speaks as its main wire is still served natively (the
    Responses API at OpenAI): which targets, and how to call them."""

    serves: Callable[[Target], bool]
    send: Callable[[Target, dict[str, Any], bool, dict[str, str] | None], Awaitable[Reply]]


@dataclass
class Generation:
    """A generation call on its way upstream: the client's body, and its canonical form once a target
    in another format needs it (parsed once, however many targets are tried)."""

    call: Call
    client: ClientCodec
    body: dict[str, Any]
    stream: bool
    same_family_body: Callable[[Target], dict[str, Any]] | None  # None: always translate
    headers: dict[str, str] = field(default_factory=dict)  # forwarded on the same-family path
    native: NativeRoute | None = None  # targets that take the client's format at another endpoint
    _canonical: ChatRequest | None = None
    _inlined: bool = False
    _dropped_noted: bool = False

    def __post_init__(self) -> None:
        # what StreamingClientCodec adds (hasattr: a protocol's isinstance costs ~10 µs)
        if self.stream and not hasattr(self.client, "stream_writer"):
            raise invalid_request(f"{self.client.name} answers cannot be streamed", "stream")

    def relays(self, target: Target) -> bool:
        """Whether this target gets the client's own body (same family) rather than a translation."""
        if self.same_family_body is None:
            return False
        return self.native.serves(target) if self.native is not None else target.wire.name == self.client.name

    def send(self, target: Target, body: dict[str, Any], headers: dict[str, str] | None) -> Awaitable[Reply]:
        """One upstream call to `target`, at its native endpoint when it takes the client's own format."""
        if self.native is not None and self.relays(target):
            return self.native.send(target, body, self.stream, headers)
        return target.provider.send(body, self.stream, headers)

    async def canonical(self, target: Target | None = None) -> ChatRequest:
        """The request in canonical form, with replayed signatures, and images inlined when `target` needs it."""
        if self._canonical is None:
            canonical = self.client.parse_request(self.body)
            await replay.restore(self.call, canonical)
            self._canonical = canonical
        if target is not None and target.wire.inline_images and not self._inlined:
            gateway = self.call.gateway
            await inline_remote_images(self._canonical, gateway.outbound, gateway.settings.fetch_allow_private)
            self._inlined = True
        return self._canonical

    def admit(self, plan: list[Target]) -> Awaitable[None]:
        """Let the call in against `plan` (admission.admit), after reading it when no target of the plan
        takes it as it is: a request the hub cannot read is refused before it is counted, the same way
        in every family."""
        for target in plan:
            if self.relays(target):
                return admit(self.call, self.body, plan)  # awaited by the caller: no frame of ours between
        return self._read_then_admit(plan)

    async def _read_then_admit(self, plan: list[Target]) -> None:
        await self.canonical()
        await admit(self.call, self.body, plan)

    async def upstream_request(self, target: Target) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The body (and forwarded headers) to send to `target`."""
        if self.relays(target):
            assert self.same_family_body is not None
            return self.same_family_body(target), self.headers or None
        canonical = await self.canonical(target)
        wire = target.wire
        if canonical.hosted_tools:
            run = {canonical.server_tools[c] for c in wire.runs(canonical)} if wire.runs is not None else set()
            dropped = [t for t in canonical.hosted_tools if t not in run]
            if dropped:
                self._drop_hosted_tools(target, dropped)
        headers = wire.request_headers(canonical) if wire.request_headers is not None else None
        return wire.build_request(canonical, target.model), headers or None

    def _drop_hosted_tools(self, target: Target, dropped: list[str]) -> None:
        """Refuse the hosted tools a translated upstream cannot run, or leave them out where the target
        allows it, which the log and the metrics show."""
        if target.hosted_tools == "refuse":
            raise invalid_request(
                f"tools: {', '.join(sorted(set(dropped)))} cannot be run by the provider of '{target.public_model}'", "tools"
            )
        if self._dropped_noted:
            return
        self._dropped_noted = True
        call = self.call
        for tool in dropped:
            call.gateway.metrics.dropped_tools[(self.client.name, tool)] += 1
        fields = {"request_id": call.request_id, "model": target.public_model, "provider": target.provider.name, "tools": dropped}
        log.info("hosted tools dropped", extra={"fields": fields})


def upstream_failed(call: Call, model: str, provider: str, err: GatewayError) -> None:
    """The log line of one failed upstream attempt: which model and provider, and what it said (its
    credentials scrubbed, as in every log line)."""
    fields = {
        "request_id": call.request_id,
        "model": model,
        "provider": provider,
        "status": err.status,
        "code": err.code,
        "error": err.message[:500],
    }
    log.warning("upstream failed", extra={"fields": fields})


def _retry_after(err: GatewayError) -> float:
    try:
        return float(err.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0


async def obtain(generation: Generation, plan: list[Target]) -> tuple[Target, Reply]:
    """The first target of `plan` to answer a generation call, in its format or translated."""

    async def send(target: Target) -> Reply:
        body, headers = await generation.upstream_request(target)
        return await generation.send(target, body, headers)

    return await attempt(generation.call, generation.client.name, plan, send)


async def attempt(
    call: Call, family: str, plan: list[Target], send: Callable[[Target], Awaitable[Reply]]
) -> tuple[Target, Reply]:
    """The first target of `plan` to answer through `send`, trying each in turn (from the start again
    when the plan is shorter than the configured attempts); the last failure is recorded (at no cost)
    and raised."""
    policy = call.gateway.settings.routing
    attempts = (plan * policy.max_attempts)[: policy.max_attempts]
    last: GatewayError | None = None
    for number, target in enumerate(attempts, start=1):
        if last is not None:
            again = target is attempts[number - 2]  # the same target as the attempt that just failed
            wait = max(_retry_after(last), 0.1 * number) if again else 0.0
            if wait > policy.max_retry_wait_seconds or time.time() + wait - call.started > policy.deadline_seconds:
                break
            if wait:
                await asyncio.sleep(wait)
        call.attempts = number
        sent = time.perf_counter()
        try:
            reply = await send(target)
        except GatewayError as err:
            spent = time.perf_counter() - sent
            call.upstream_seconds += spent
            upstream_failed(call, target.public_model, target.provider.name, err)
            last = err
            if not retryable(err):
                record_failure(call, family, target, err)
                raise
            target.breaker.failure()
            failed = {
                "provider": target.provider.name,
                "model": target.model,
                "status": err.status,
                "ms": round(spent * 1000.0, 1),
                "error": err.message[:200],
            }
            call.failures = [*(call.failures or []), failed]
            continue
        call.upstream_seconds += time.perf_counter() - sent
        target.breaker.success()
        if reply.chunks is not None:
            call.abandon = reply.close  # for a client that leaves while the upstream is silent
        return target, reply
    assert last is not None
    record_failure(call, family, attempts[call.attempts - 1], last)
    raise last
