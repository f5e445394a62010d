"""OpenAI's audio routes (speech, transcriptions, translations) and moderations, passed through to the
model's upstream with the model id swapped; speech is billed by characters, what is heard by minutes
(or by the tokens the upstream reports), at the target's prices."""

from __future__ import annotations

from typing import Any

from anygate.core.usage import Usage, estimate_prompt, estimate_tokens
from anygate.metering.record import record_usage
from anygate.protocols.openai.passthrough import (
    Passed,
    forwarded,
    json_answer,
    model_less,
    model_targets,
    on_target,
    relayed,
    send,
)
from anygate.protocols.openai.transcript_formats import rendered
from anygate.providers.base import Passage, PassesThrough, Reply
from anygate.routing.table import Target
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.dispatch import attempt
from anygate.server.json_body import read_json_object
from anygate.server.multipart_form import field_value, read_upload, with_field

AUDIO = "openai-audio"
MODERATIONS = "openai-moderations"
MAX_AUDIO_BYTES = 25 * 1024 * 1024  # OpenAI's limit on a file to transcribe


def _speech_price(target: Target, text: str) -> float:
    if target.character_price is not None:
        return len(text) * target.character_price / 1_000_000
    return target.cost(Usage(estimate_tokens(text)))


async def speech(request: web.Request, call: Call) -> web.StreamResponse:
    """Text to speech: the audio streamed back as the upstream makes it."""
    body = await read_json_object(request)
    plan = model_targets(call, body.get("model"), "POST /openai/v1/audio/speech")
    given = body.get("input")
    text = given if isinstance(given, str) else ""
    await admit(call, body, [on_target(t, _speech_price(t, text)) for t in plan])

    async def send_to(target: Target) -> Reply:
        assert isinstance(target.provider, PassesThrough)
        passage = Passage("POST", "/audio/speech", json={**body, "model": target.model}, headers=forwarded(request))
        return await target.provider.pass_through(passage)

    target, reply = await attempt(call, AUDIO, plan, send_to)
    return await relayed(
        request, call, AUDIO, on_target(target, _speech_price(target, text)), reply, Usage(estimate_tokens(text), estimated=True)
    )


async def transcriptions(request: web.Request, call: Call) -> web.StreamResponse:
    """Speech to text in the language spoken."""
    return await _heard(request, call, "/audio/transcriptions")


async def translations(request: web.Request, call: Call) -> web.StreamResponse:
    """Speech to English text."""
    return await _heard(request, call, "/audio/translations")


async def _heard(request: web.Request, call: Call, path: str) -> web.StreamResponse:
    """The uploaded audio, streamed on to the model's first target (a stream is sent once: no fallback)."""
    upload = await read_upload(request, ("model",), MAX_AUDIO_BYTES)
    target = model_targets(call, field_value(upload, "model"), f"POST /openai/v1{path}")[0]
    await admit(call, {})  # how long the audio is shows in the answer only: nothing to reserve before
    passed = on_target(target)
    wanted = field_value(upload, "response_format") or "json"
    asked = _asked_format(wanted, target)
    upload = (
        with_field(with_field(upload, "model", target.model), "response_format", asked)
        if asked != wanted
        else with_field(upload, "model", target.model)
    )
    reply = await send(call, AUDIO, passed, Passage("POST", path, upload=upload, headers=forwarded(request)))
    if reply.content_type != "application/json":  # a format that says nothing of the audio's length
        return await relayed(request, call, AUDIO, passed, reply)
    answer = json_answer(call, AUDIO, passed, reply)
    usage, price = _heard_usage(target, answer)
    record_usage(call, AUDIO, on_target(target, price), usage, 200)
    if asked != wanted:
        return web.Response(text=rendered(answer, wanted), content_type="text/plain", headers={"x-request-id": call.request_id})
    return web.Response(body=reply.body, content_type="application/json", headers={"x-request-id": call.request_id})


def _asked_format(wanted: str, target: Target) -> str:
    """The format to ask the upstream for, so that the answer tells what to bill: subtitles and plain
    text are made here from verbose_json (with the audio's duration) for a model billed by the minute,
    plain text from json (with its token usage) for one billed by tokens."""
    if wanted in ("text", "srt", "vtt") and target.minute_price is not None:
        return "verbose_json"
    return "json" if wanted == "text" else wanted


def _heard_usage(target: Target, answer: dict[str, Any]) -> tuple[Usage, float]:
    """The tokens and price of a transcript: by the minutes heard (`usage.seconds`, or verbose_json's
    `duration`) at the minute price, else by the tokens reported at the token prices."""
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    seconds = usage.get("seconds") if usage.get("type") == "duration" else answer.get("duration")
    tokens = (
        Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
        if usage.get("type") == "tokens"
        else Usage()
    )
    if isinstance(seconds, int | float) and target.minute_price is not None:
        return tokens, float(seconds) / 60 * target.minute_price
    return tokens, target.cost(tokens)


async def moderations(request: web.Request, call: Call) -> web.Response:
    """Moderation of text (and images), on the model's targets or, without a model, the first provider
    that passes calls through."""
    body = await read_json_object(request)
    usage = Usage(estimate_prompt(body.get("input")), estimated=True)
    if body.get("model") is None:
        passed: Passed = model_less(call, "POST /openai/v1/moderations")
        await admit(call, body)
        reply = await send(call, MODERATIONS, passed, Passage("POST", "/moderations", json=body, headers=forwarded(request)))
    else:
        plan = model_targets(call, body["model"], "POST /openai/v1/moderations")
        await admit(call, body, plan)

        async def send_to(target: Target) -> Reply:
            assert isinstance(target.provider, PassesThrough)
            return await target.provider.pass_through(Passage("POST", "/moderations", json={**body, "model": target.model}))

        target, reply = await attempt(call, MODERATIONS, plan, send_to)
        passed = on_target(target, target.cost(usage))
    answer = json_answer(call, MODERATIONS, passed, reply)
    if passed.public_model:
        answer["model"] = passed.public_model
    record_usage(call, MODERATIONS, passed, usage, 200)
    return web.json_response(answer, headers={"x-request-id": call.request_id})
