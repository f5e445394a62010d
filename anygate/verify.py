"""`anygate verify`: the "Verify Your Integration" checklist against a running gateway.

Each check is one plain HTTP exchange a client of that family would make; a check passes when the
answer has the shape that family's SDK expects. Task models (those the models list gives `tasks`)
get a video round trip through the OpenAI Videos API when they run video tasks.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 60.0
TASK_SECONDS = 300.0
_VIDEO_KINDS = {"text2video", "video-synthesis"}


class Failed(Exception):
    """A check did not get what it expected."""


@dataclass(slots=True)
class Result:
    """One check's outcome."""

    name: str
    outcome: str  # PASS, FAIL or SKIP
    detail: str
    ms: float


@dataclass(slots=True)
class Answer:
    """An HTTP answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; Failed when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"HTTP {self.status}, not JSON: {self.body[:200]!r}") from None


class Client:
    """Plain HTTP calls to the gateway with one key."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base = base_url.rstrip("/")
        self.key = key

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, key: str | None = None) -> Answer:
        """One request; any HTTP status is an answer, a connection failure is Failed."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Authorization": f"Bearer {key or self.key}", "Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.base + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
                return Answer(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, dict(err.headers), err.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Failed(f"cannot reach {self.base}: {exc}") from None


def _expect(condition: bool, detail: str) -> None:
    if not condition:
        raise Failed(detail)


def _ok(answer: Answer) -> Any:
    data = answer.json()
    _expect(answer.status == 200, f"HTTP {answer.status}: {str(data)[:200]}")
    return data


def _hello(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 32}


class Checklist:
    """The checks, in order, against one gateway."""

    def __init__(self, client: Client, model: str | None) -> None:
        self.client = client
        self.model = model
        self.models: list[dict[str, Any]] = []

    def models_list(self) -> str:
        """GET /openai/v1/models lists the model to use."""
        self.models = _ok(self.client.call("GET", "/openai/v1/models"))["data"]
        chat = [m["id"] for m in self.models if "tasks" not in m]
        if self.model is None:
            _expect(bool(chat), "no chat model is listed for this key")
            self.model = chat[0]
        _expect(any(m["id"] == self.model for m in self.models), f"'{self.model}' is not in the list")
        return f"{len(self.models)} models; using {self.model}"

    def text(self) -> str:
        """One minimal chat completion."""
        data = _ok(self.client.call("POST", "/openai/v1/chat/completions", _hello(self._model())))
        content = data["choices"][0]["message"].get("content")
        _expect(isinstance(content, str) and bool(content), "the answer has no text")
        return f"{data['usage']['total_tokens']} tokens"

    def streaming(self) -> str:
        """A streamed chat completion: SSE chunks, usage, then [DONE]."""
        body = {**_hello(self._model()), "stream": True, "stream_options": {"include_usage": True}}
        answer = self.client.call("POST", "/openai/v1/chat/completions", body)
        _expect(answer.status == 200, f"HTTP {answer.status}")
        _expect(answer.headers.get("Content-Type", "").startswith("text/event-stream"), "not an event stream")
        events = [line[6:] for line in answer.body.decode().splitlines() if line.startswith("data: ")]
        _expect(bool(events) and events[-1] == "[DONE]", "the stream does not end with [DONE]")
        chunks = [json.loads(e) for e in events[:-1]]
        _expect(any(c.get("usage") for c in chunks), "no usage chunk")
        return f"{len(chunks)} chunks"

    def anthropic(self) -> str:
        """POST /anthropic/v1/messages with Anthropic's headers."""
        headers = {"x-api-key": self.client.key, "anthropic-version": "2023-06-01"}
        data = _ok(self.client.call("POST", "/anthropic/v1/messages", _hello(self._model()), headers))
        _expect(data.get("type") == "message" and data["content"][0]["type"] == "text", "not an Anthropic message")
        return f"stop_reason {data['stop_reason']}"

    def count_tokens(self) -> str:
        """POST /anthropic/v1/messages/count_tokens."""
        body = {k: v for k, v in _hello(self._model()).items() if k != "max_tokens"}
        data = _ok(self.client.call("POST", "/anthropic/v1/messages/count_tokens", body, {"anthropic-version": "2023-06-01"}))
        _expect(isinstance(data.get("input_tokens"), int) and data["input_tokens"] > 0, "no input_tokens")
        return f"{data['input_tokens']} input tokens"

    def gemini(self) -> str:
        """POST /gemini/v1beta/models/{model}:generateContent."""
        body = {"contents": [{"role": "user", "parts": [{"text": "Say hello in five words."}]}]}
        data = _ok(self.client.call("POST", f"/gemini/v1beta/models/{self._model()}:generateContent", body))
        parts = data["candidates"][0]["content"]["parts"]
        _expect(any(isinstance(p.get("text"), str) for p in parts), "no text part")
        return f"finishReason {data['candidates'][0].get('finishReason')}"

    def task(self) -> str:
        """A video task through the OpenAI Videos API, polled until it ends (SKIP without a video model)."""
        video = next((m["id"] for m in self.models if _VIDEO_KINDS & set(m.get("tasks", []))), None)
        if video is None:
            raise Skipped("no video task model is listed for this key")
        created = _ok(self.client.call("POST", "/openai/v1/videos", {"model": video, "prompt": "A short test clip of a calm sea."}))
        deadline = time.monotonic() + TASK_SECONDS
        while created["status"] in ("queued", "in_progress"):
            _expect(time.monotonic() < deadline, f"task {created['id']} still {created['status']} after {TASK_SECONDS:.0f} s")
            time.sleep(2)
            created = _ok(self.client.call("GET", f"/openai/v1/videos/{created['id']}"))
        _expect(created["status"] == "completed", f"task {created['id']} {created['status']}: {created.get('error')}")
        return f"{video}: {created['id']} completed"

    def bad_key(self) -> str:
        """A wrong key is a 401 in the caller's family shape."""
        answer = self.client.call("POST", "/openai/v1/chat/completions", _hello(self._model()), key="ag-not-a-key")
        data = answer.json()
        _expect(answer.status == 401 and "error" in data, f"HTTP {answer.status}")
        return "401 invalid_api_key"

    def unknown_model(self) -> str:
        """An unknown model is a 404 that names it."""
        answer = self.client.call("POST", "/openai/v1/chat/completions", _hello("no-such-model-anygate-verify"))
        data = answer.json()
        _expect(answer.status == 404 and data["error"].get("code") == "model_not_found", f"HTTP {answer.status}")
        return "404 model_not_found"

    def _model(self) -> str:
        if self.model is None:
            raise Skipped("no model (the models list failed)")
        return self.model

    def checks(self) -> list[tuple[str, Callable[[], str]]]:
        """Every check, named, in order."""
        return [
            ("models list", self.models_list),
            ("text call", self.text),
            ("streaming", self.streaming),
            ("Anthropic messages", self.anthropic),
            ("Anthropic count_tokens", self.count_tokens),
            ("Gemini generateContent", self.gemini),
            ("task round trip", self.task),
            ("bad key -> 401", self.bad_key),
            ("unknown model -> 404", self.unknown_model),
        ]


class Skipped(Exception):
    """A check that does not apply here."""


def run(base_url: str, key: str, model: str | None = None) -> list[Result]:
    """Run the checklist; one Result per check."""
    results = []
    for name, check in Checklist(Client(base_url, key), model).checks():
        started = time.perf_counter()
        try:
            outcome, detail = "PASS", check()
        except Skipped as skip:
            outcome, detail = "SKIP", str(skip)
        except Failed as failure:
            outcome, detail = "FAIL", str(failure)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            outcome, detail = "FAIL", f"unexpected answer shape ({type(exc).__name__}: {exc})"
        results.append(Result(name, outcome, detail, (time.perf_counter() - started) * 1000))
    return results
