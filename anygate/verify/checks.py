"""The steps of AnyInt's "Verify Your Integration" guide, each one plain HTTP exchange a client of that
family would make (with that family's own auth header), passing when the answer has the shape that
family's SDK expects."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anygate.tasks.webhooks import signature
from anygate.verify.http import Answer, CallbackReceiver, Client, Failed, Skipped

TASK_SECONDS = 300.0
CALLBACK_SECONDS = 30.0
MAX_LIMIT_TO_REACH = 120  # requests: a key allowed more a minute is not run out on purpose
_VIDEO_KINDS = {"text2video", "video-synthesis"}
_KLING_IMAGE_KINDS = {"generations"}
_MUSIC_KINDS = {"generate"}
_PROMPT = "Say hello in five words."


@dataclass(frozen=True, slots=True)
class Options:
    """What the run needs besides the gateway: where the key came from, the model to use, and how
    callbacks reach this machine and are checked."""

    key_source: str  # ANYGATE_API_KEY or --key
    model: str | None = None
    callback_host: str = "127.0.0.1"
    webhook_secret: str | None = None
    forbidden_model: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One check: its name, what it sends, what it expects, and the check itself."""

    name: str
    sent: str
    expected: str
    run: Callable[[], str]


def _expect(condition: bool, detail: str) -> None:
    if not condition:
        raise Failed(detail)


def _ok(answer: Answer) -> Any:
    data = answer.json()
    _expect(answer.status == 200, f"HTTP {answer.status}: {str(data)[:200]}")
    return data


def _events(answer: Answer) -> list[tuple[str, str]]:
    """The (event, data) pairs of an SSE answer."""
    _expect(answer.status == 200, f"HTTP {answer.status}: {answer.body[:200]!r}")
    _expect(answer.headers.get("Content-Type", "").startswith("text/event-stream"), "not an event stream")
    found, name = [], ""
    for line in answer.body.decode().splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            found.append((name, line[5:].strip()))
            name = ""
    return found


@dataclass
class Checklist:
    """The steps, in order, against one gateway."""

    client: Client
    options: Options
    model: str | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    receiver: CallbackReceiver | None = None
    tasks_called_back: list[str] = field(default_factory=list)  # the callback names of the tasks started
    callback_refused: str | None = None  # why the gateway would not take the receiver's URL
    key_refused: bool = False  # the models list answered 401: no later step can pass

    def __post_init__(self) -> None:
        self.model = self.options.model

    def steps(self) -> list[Step]:
        """Every step, in the guide's order."""
        m = "{model}"
        return [
            Step("API key", "-", "a key, from ANYGATE_API_KEY (or --key)", self.key),
            Step(
                "models list",
                "GET /openai/v1/models (Authorization: Bearer)",
                "200, a list with the model to use",
                self.models_list,
            ),
            Step(
                "Anthropic models list",
                "GET /anthropic/v1/models (x-api-key)",
                "200, data[] with type model",
                self.anthropic_models,
            ),
            Step("text call", f"POST /openai/v1/chat/completions model={m}", "200, a message with text and usage", self.text),
            Step(
                "OpenAI streaming",
                "POST /openai/v1/chat/completions stream:true",
                "SSE chunks, a usage chunk, [DONE]",
                self.streaming,
            ),
            Step(
                "Responses streaming",
                "POST /openai/v1/responses stream:true",
                "SSE events ending with response.completed",
                self.responses_stream,
            ),
            Step(
                "Anthropic messages",
                "POST /anthropic/v1/messages (x-api-key, anthropic-version)",
                "200, type message with text",
                self.anthropic,
            ),
            Step(
                "Anthropic streaming",
                "POST /anthropic/v1/messages stream:true",
                "message_start … message_stop",
                self.anthropic_stream,
            ),
            Step(
                "Anthropic count_tokens", "POST /anthropic/v1/messages/count_tokens", "200, input_tokens > 0", self.count_tokens
            ),
            Step(
                "Gemini generateContent",
                f"POST /gemini/v1beta/models/{m}:generateContent (x-goog-api-key)",
                "200, a candidate with text",
                self.gemini,
            ),
            Step(
                "Gemini streaming",
                f"POST /gemini/v1beta/models/{m}:streamGenerateContent?alt=sse",
                "SSE chunks, the last with finishReason",
                self.gemini_stream,
            ),
            Step(
                "media task",
                "POST /openai/v1/videos or /transtreams/kling/v1/images/generations with a callback",
                "a task id, then completed when polled",
                self.media_task,
            ),
            Step("music task", "POST /suno/generate with callBackUrl", "a taskId, then SUCCESS when polled", self.music_task),
            Step("callbacks", "(the tasks above)", "a callback per task, signed with the key's webhook secret", self.callbacks),
            Step(
                "bad key -> 401", "POST /openai/v1/chat/completions with a wrong key", "401 in OpenAI's error shape", self.bad_key
            ),
            Step(
                "forbidden model -> 403",
                "POST /openai/v1/chat/completions with a model the key may not use",
                "403 model_not_allowed",
                self.forbidden,
            ),
            Step(
                "unknown model -> 404",
                "POST /openai/v1/chat/completions model=no-such-model",
                "404 model_not_found",
                self.unknown_model,
            ),
            Step(
                "rate limit -> 429",
                "POST /anthropic/v1/messages/count_tokens until the key's request limit",
                "429 with Retry-After and x-ratelimit-*",
                self.rate_limit,
            ),
        ]

    def key(self) -> str:
        """Where the key came from (the environment keeps it out of shell history and process lists)."""
        if self.options.key_source == "ANYGATE_API_KEY":
            return "read from ANYGATE_API_KEY"
        return "given with --key; ANYGATE_API_KEY keeps it out of shell history and process lists"

    def models_list(self) -> str:
        """GET /openai/v1/models lists the model to use."""
        answer = self.client.call("GET", "/openai/v1/models")
        if answer.status == 401:
            self.key_refused = True
            raise Failed(
                f"the gateway refuses this key (401: {str(answer.json().get('error', {}).get('message'))[:120]}): check ANYGATE_API_KEY or --key"
            )
        self.models = _ok(answer)["data"]
        chat = [m["id"] for m in self.models if "tasks" not in m]
        if self.model is None:
            _expect(bool(chat), "no chat model is listed for this key")
            self.model = chat[0]
        _expect(any(m["id"] == self.model for m in self.models), f"'{self.model}' is not in the list")
        return f"{len(self.models)} models; using {self.model}"

    def anthropic_models(self) -> str:
        data = _ok(self.client.call("GET", "/anthropic/v1/models", auth="anthropic"))
        _expect(all(m.get("type") == "model" for m in data["data"]), "an entry is not of type model")
        return f"{len(data['data'])} models, has_more {data.get('has_more')}"

    def text(self) -> str:
        data = _ok(self.client.call("POST", "/openai/v1/chat/completions", self._hello()))
        content = data["choices"][0]["message"].get("content")
        _expect(isinstance(content, str) and bool(content), "the answer has no text")
        return f"{data['usage']['total_tokens']} tokens"

    def streaming(self) -> str:
        body = {**self._hello(), "stream": True, "stream_options": {"include_usage": True}}
        events = [data for _, data in _events(self.client.call("POST", "/openai/v1/chat/completions", body))]
        _expect(bool(events) and events[-1] == "[DONE]", "the stream does not end with [DONE]")
        chunks = [json.loads(e) for e in events[:-1]]
        _expect(any(c.get("usage") for c in chunks), "no usage chunk")
        return f"{len(chunks)} chunks"

    def responses_stream(self) -> str:
        body = {"model": self._model(), "input": _PROMPT, "stream": True, "store": False, "max_output_tokens": 32}
        events = _events(self.client.call("POST", "/openai/v1/responses", body))
        names = [name for name, _ in events]
        _expect(bool(names) and names[0] == "response.created", "the stream does not start with response.created")
        _expect(names[-1] == "response.completed", f"the stream ends with {names[-1] if names else 'nothing'}")
        return f"{len(events)} events"

    def anthropic(self) -> str:
        data = _ok(self.client.call("POST", "/anthropic/v1/messages", self._hello(), auth="anthropic"))
        _expect(data.get("type") == "message" and data["content"][0]["type"] == "text", "not an Anthropic message")
        return f"stop_reason {data['stop_reason']}"

    def anthropic_stream(self) -> str:
        events = _events(self.client.call("POST", "/anthropic/v1/messages", {**self._hello(), "stream": True}, auth="anthropic"))
        names = [name for name, _ in events]
        _expect(names[:1] == ["message_start"] and names[-1:] == ["message_stop"], f"events {names[:1]} … {names[-1:]}")
        _expect("content_block_delta" in names, "no content_block_delta")
        return f"{len(events)} events"

    def count_tokens(self) -> str:
        body = {k: v for k, v in self._hello().items() if k != "max_tokens"}
        data = _ok(self.client.call("POST", "/anthropic/v1/messages/count_tokens", body, auth="anthropic"))
        _expect(isinstance(data.get("input_tokens"), int) and data["input_tokens"] > 0, "no input_tokens")
        return f"{data['input_tokens']} input tokens"

    def gemini(self) -> str:
        data = _ok(
            self.client.call("POST", f"/gemini/v1beta/models/{self._model()}:generateContent", _gemini_body(), auth="gemini")
        )
        parts = data["candidates"][0]["content"]["parts"]
        _expect(any(isinstance(p.get("text"), str) for p in parts), "no text part")
        return f"finishReason {data['candidates'][0].get('finishReason')}"

    def gemini_stream(self) -> str:
        path = f"/gemini/v1beta/models/{self._model()}:streamGenerateContent?alt=sse"
        chunks = [json.loads(data) for _, data in _events(self.client.call("POST", path, _gemini_body(), auth="gemini"))]
        _expect(
            bool(chunks) and chunks[-1]["candidates"][0].get("finishReason") is not None, "the last chunk has no finishReason"
        )
        return f"{len(chunks)} chunks"

    def media_task(self) -> str:
        """A video through the OpenAI Videos API, or a Kling image, polled until it ends."""
        video = self._task_model(_VIDEO_KINDS)
        if video is not None:
            body = {"model": video, "prompt": "A short test clip of a calm sea."}
            created = _ok(self._create("/openai/v1/videos", body, "callback_url", "media"))
            done = self._poll(
                lambda: _ok(self.client.call("GET", f"/openai/v1/videos/{created['id']}")),
                lambda v: v["status"] not in ("queued", "in_progress"),
            )
            _expect(done["status"] == "completed", f"task {created['id']} {done['status']}: {done.get('error')}")
            return f"{video}: video {created['id']} completed"
        image = self._task_model(_KLING_IMAGE_KINDS)
        if image is None:
            raise Skipped("no video or Kling image model is listed for this key")
        body = {"model_name": image, "prompt": "A red square."}
        created = _ok(self._create("/transtreams/kling/v1/images/generations", body, "callback_url", "media"))["data"]
        path = f"/transtreams/kling/v1/images/generations/{created['task_id']}"
        done = self._poll(lambda: _ok(self.client.call("GET", path))["data"], lambda d: d["task_status"] in ("succeed", "failed"))
        _expect(
            done["task_status"] == "succeed", f"task {created['task_id']} {done['task_status']}: {done.get('task_status_msg')}"
        )
        return f"{image}: image task {created['task_id']} succeed"

    def music_task(self) -> str:
        music = self._task_model(_MUSIC_KINDS)
        if music is None:
            raise Skipped("no music model is listed for this key")
        body = {"model": music, "prompt": "A calm piano test melody.", "customMode": False, "instrumental": True}
        created = _ok(self._create("/suno/generate", body, "callBackUrl", "music"))
        _expect(created.get("code") == 200, f"code {created.get('code')}: {created.get('msg')}")
        task_id = created["data"]["taskId"]
        done = self._poll(
            lambda: _ok(self.client.call("GET", f"/suno/query/task?taskId={task_id}"))["data"],
            lambda d: d["status"] == "SUCCESS" or d["status"].endswith("FAILED"),
        )
        _expect(done["status"] == "SUCCESS", f"task {task_id} {done['status']}: {done.get('errorMessage')}")
        return f"{music}: {task_id} SUCCESS"

    def callbacks(self) -> str:
        """Each task started got a callback, signed with the key's webhook secret when one is given."""
        if not self.tasks_called_back or self.receiver is None:
            raise Skipped(self.callback_refused or "no task was started")
        got = {name: self.receiver.wait(name, CALLBACK_SECONDS) for name in self.tasks_called_back}
        missing = [name for name, calls in got.items() if not calls]
        _expect(
            not missing,
            f"no callback for the {', '.join(missing)} task within {CALLBACK_SECONDS:.0f} s at {self.receiver.url('…')}",
        )
        every = [c for calls in got.values() for c in calls]
        if self.options.webhook_secret is None:
            return f"{len(every)} received; signatures not checked (give --webhook-secret or ANYGATE_WEBHOOK_SECRET)"
        for c in every:
            expected = signature(self.options.webhook_secret, c.headers.get("X-Anygate-Timestamp", ""), c.body)
            _expect(
                hmac.compare_digest(expected, c.headers.get("X-Anygate-Signature", "")),
                f"a callback to {c.path} has a wrong signature",
            )
        return f"{len(every)} received, every signature right"

    def bad_key(self) -> str:
        body = {"model": self.model or "any-model", "messages": [{"role": "user", "content": _PROMPT}], "max_tokens": 32}
        answer = self.client.call("POST", "/openai/v1/chat/completions", body, key="ag-not-a-key")
        data = answer.json()
        _expect(answer.status == 401 and isinstance(data.get("error"), dict), f"HTTP {answer.status}")
        return f"401 {data['error'].get('code')}"

    def forbidden(self) -> str:
        if self.options.forbidden_model is None:
            raise Skipped("give --forbidden-model, a model this key may not use")
        answer = self.client.call("POST", "/openai/v1/chat/completions", {**self._hello(), "model": self.options.forbidden_model})
        data = answer.json()
        _expect(
            answer.status == 403 and data["error"].get("code") == "model_not_allowed", f"HTTP {answer.status}: {str(data)[:200]}"
        )
        return "403 model_not_allowed"

    def unknown_model(self) -> str:
        answer = self.client.call(
            "POST", "/openai/v1/chat/completions", {**self._hello(), "model": "no-such-model-anygate-verify"}
        )
        data = answer.json()
        _expect(answer.status == 404 and data["error"].get("code") == "model_not_found", f"HTTP {answer.status}")
        return "404 model_not_found"

    def rate_limit(self) -> str:
        """Runs the key out of its requests for the minute with token counts (which cost nothing), at
        most MAX_LIMIT_TO_REACH of them."""
        body = {"model": self._model(), "messages": [{"role": "user", "content": "hi"}]}
        for sent in range(1, MAX_LIMIT_TO_REACH + 1):
            answer = self.client.call("POST", "/anthropic/v1/messages/count_tokens", body, auth="anthropic")
            if answer.status == 429:
                error = answer.json()
                _expect(
                    error.get("type") == "error" and error["error"]["type"] == "rate_limit_error",
                    f"not Anthropic's error shape: {error}",
                )
                _expect("Retry-After" in answer.headers, "no Retry-After header")
                limit = answer.headers.get("x-ratelimit-limit-requests")
                _expect(limit is not None, "no x-ratelimit-limit-requests header")
                return f"429 at request {sent} (limit {limit} a minute); Retry-After {answer.headers['Retry-After']} s"
            _expect(answer.status == 200, f"HTTP {answer.status} before any 429")
        raise Skipped(f"no 429 within {MAX_LIMIT_TO_REACH} requests: this key has no request limit, or a higher one")

    def _hello(self) -> dict[str, Any]:
        return {"model": self._model(), "messages": [{"role": "user", "content": _PROMPT}], "max_tokens": 32}

    def _model(self) -> str:
        if self.model is None:
            raise Skipped("no model (the models list failed)")
        return self.model

    def _task_model(self, kinds: set[str]) -> str | None:
        return next((m["id"] for m in self.models if kinds & set(m.get("tasks", []))), None)

    def _create(self, path: str, body: dict[str, Any], field_name: str, name: str) -> Answer:
        """A task created with a callback to the local receiver; when the gateway refuses that URL (a
        gateway on loopback refuses private callback hosts by default), created without one, and the
        callbacks step says why."""
        if self.receiver is None:
            self.receiver = CallbackReceiver(self.options.callback_host)
        answer = self.client.call("POST", path, {**body, field_name: self.receiver.url(name)})
        refusal = _callback_refusal(answer)
        if refusal is None:
            if _started(answer):
                self.tasks_called_back.append(name)
            return answer
        self.callback_refused = (
            f"the gateway refused the callback URL {self.receiver.url(name)} ({refusal}): give --callback-host a name the "
            "gateway reaches this machine by (a gateway on this machine needs tasks.webhook_allow_private)"
        )
        return self.client.call("POST", path, body)

    def _poll(self, read: Callable[[], Any], ended: Callable[[Any], bool]) -> Any:
        deadline = time.monotonic() + TASK_SECONDS
        while not ended(state := read()):
            _expect(time.monotonic() < deadline, f"still running after {TASK_SECONDS:.0f} s: {str(state)[:200]}")
            time.sleep(1)
        return state


def _started(answer: Answer) -> bool:
    """Whether a task create succeeded (HTTP 200, and Kling's code 0 or Suno's 200 where there is one)."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        return False
    return answer.status == 200 and (not isinstance(data, dict) or data.get("code", 0) in (0, 200))


def _callback_refusal(answer: Answer) -> str | None:
    """The gateway's reason, when it refused a task's callback URL (in any family's error shape)."""
    if answer.status not in (200, 400):
        return None
    try:
        data = json.loads(answer.body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data.get("error"), dict) else data
    message = str(error.get("message") or error.get("msg") or "")
    return message if "callback" in message.lower() and (answer.status == 400 or data.get("code") == 400) else None


def _gemini_body() -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": _PROMPT}]}], "generationConfig": {"maxOutputTokens": 32}}
