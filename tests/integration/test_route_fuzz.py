"""Every route of every family, fed generated input (a valid body of the route with any part replaced by
any JSON, or removed; odd ids in the path; odd query strings and bodies that are not JSON objects): the
gateway answers each with a 2xx or a 4xx in the family's error shape, never a 5xx. On PostgreSQL, the
stricter backend (it refuses a NUL in text where SQLite does not); the rest of the suite covers SQLite."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anygate.config import settings_from_data
from anygate.server.app import App
from tests.fakes.dashscope_upstream import UPSTREAM_KEY as DASHSCOPE_KEY
from tests.fakes.dashscope_upstream import FakeDashScope
from tests.fakes.kling_upstream import API_KEY as KLING_KEY
from tests.fakes.kling_upstream import FakeKling
from tests.fakes.server_thread import GatewayThread
from tests.fakes.suno_upstream import UPSTREAM_KEY as SUNO_KEY
from tests.fakes.suno_upstream import FakeSuno

ADMIN = "admin-key-for-the-fuzz"
CHAT = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
SONG = {"customMode": True, "instrumental": False, "model": "suno-v5", "title": "t", "style": "pop", "prompt": "la"}
KLING = {"model_name": "kling-3.0", "prompt": "a fox", "duration": "5", "image": "https://example.com/a.png"}
BODIES: dict[str, dict[str, Any]] = {
    "/openai/v1/chat/completions": {
        **CHAT,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    },
    "/openai/v1/responses": {
        "model": "mock-fast",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "max_output_tokens": 20,
    },
    "/openai/v1/embeddings": {"model": "embed", "input": ["a", "b"], "dimensions": 8},
    "/openai/v1/images/generations": {"model": "image", "prompt": "a cat", "n": 1, "size": "1024x1024"},
    "/openai/v1/videos": {"model": "kling-3.0", "prompt": "a fox", "seconds": "5", "size": "720x1280"},
    "/anthropic/v1/messages": {
        "model": "mock-fast",
        "max_tokens": 20,
        "system": "be brief",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    },
    "/anthropic/v1/messages/count_tokens": {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]},
    "generateContent": {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"maxOutputTokens": 20, "temperature": 0.5},
    },
    "countTokens": {"contents": [{"parts": [{"text": "hi"}]}]},
    "/dashscope/v1/services/aigc/multimodal-generation/generation": {
        "model": "qwen-image",
        "input": {"messages": [{"role": "user", "content": [{"text": "a poster"}]}]},
        "parameters": {"size": "1328*1328"},
    },
    "/dashscope/v1/services/aigc/video-generation/video-synthesis": {
        "model": "wan-video",
        "input": {"prompt": "a cat"},
        "parameters": {"duration": 5},
    },
    "kling": KLING,
    "suno": SONG,
    "/admin/v1/keys": {"name": "fuzz", "rpm": 10, "models": ["mock-fast"], "budget_usd": 1, "expires_at": "2030-01-01T00:00:00Z"},
}
RAW_BODIES = [  # (content type, body) that is not a JSON object
    ("application/json", b""),
    ("application/json", b"not json"),
    ("application/json", b"[1,2]"),
    ("application/json", b'{"a":'),
    ("application/json", b'{"a": 1e999999}'),
    ("text/plain", b"hello"),
    ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
    ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--x--\r\n'),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="seconds"\r\n\r\n99999999999999999999999\r\n--x--\r\n',
    ),
    ("application/x-www-form-urlencoded", b"model=kling-3.0&prompt=x&seconds=%ff"),
]
QUERY_NAMES = ["taskId", "limit", "key_id", "state", "group", "after", "order", "include", "alt", "key"]
ODD_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\x00", "%00", "../../etc", "' OR 1=1 --", "\u202e", "9" * 40, "-1", "[::1", "http://[::1", "🦊", " "]),
)


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        ODD_TEXT,
        st.sampled_from(
            ["http://127.0.0.1:0/x", "http://[::1/x", "http://example.com:99999/x", "data:image/png;base64,@@", "x" * 5000]
        ),
    )
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3), max_leaves=6
    )


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*at, index))


def _replaced(value: Any, path: tuple[Any, ...], new: Any, remove: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        if remove and not rest:
            return {k: v for k, v in value.items() if k != head}
        return {**value, head: _replaced(value[head], rest, new, remove)}
    copy = list(value)
    if remove and not rest:
        del copy[head]
    else:
        copy[head] = _replaced(copy[head], rest, new, remove)
    return copy


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    """`body` with one part replaced by any JSON value, or removed (or a whole body that is not an object)."""
    path = draw(st.sampled_from(list(_paths(body))))
    return _replaced(body, path, draw(_json_values()), draw(st.booleans()) and bool(path))


def _route_body(path: str) -> dict[str, Any] | None:
    for name in (path, path.rsplit(":", 1)[-1]):
        if name in BODIES:
            return BODIES[name]
    if path.startswith("/transtreams/kling"):
        return BODIES["kling"]
    if path.startswith("/suno/"):
        return BODIES["suno"]
    return None


ERROR_SHAPES: dict[str, Callable[[Any], bool]] = {
    "openai": lambda b: isinstance(b.get("error"), dict) and isinstance(b["error"].get("message"), str) and "type" in b["error"],
    "admin": lambda b: isinstance(b.get("error"), dict) and isinstance(b["error"].get("message"), str),
    "anthropic": lambda b: b.get("type") == "error" and isinstance(b.get("error", {}).get("message"), str),
    "gemini": lambda b: isinstance(b.get("error"), dict) and {"code", "message", "status"} <= set(b["error"]),
    "dashscope": lambda b: {"request_id", "code", "message"} <= set(b),
    "kling": lambda b: {"code", "message", "request_id"} <= set(b) and b.get("data") is None,
    "suno": lambda b: isinstance(b.get("code"), int) and isinstance(b.get("msg"), str),
}


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest, fake_kling: FakeKling, fake_dashscope: FakeDashScope, fake_suno: FakeSuno
) -> Iterator[tuple[httpx.Client, str, str]]:
    database = request.getfixturevalue("postgres_url")
    config = settings_from_data(
        {
            "database": database,
            "admin_key": ADMIN,
            "providers": {
                "mock": {"type": "mock"},
                "kling": {"type": "kling", "base_url": fake_kling.url, "api_key": KLING_KEY},  # type: ignore[attr-defined]
                "dashscope": {"type": "dashscope", "base_url": f"{fake_dashscope.url}/api/v1", "api_key": DASHSCOPE_KEY},  # type: ignore[attr-defined]
                "suno": {"type": "suno", "base_url": fake_suno.url, "api_key": SUNO_KEY},  # type: ignore[attr-defined]
            },
            "models": {
                "mock-fast": [{"provider": "mock", "model": "mock-fast", "input_price": 1, "output_price": 2}],
                "embed": [{"provider": "mock", "model": "mock-embed"}],
                "image": [{"provider": "mock", "model": "mock-image"}],
                "kling-3.0": [{"provider": "kling", "model": "kling-ok", "task_price": 0.01}],
                "wan-video": [{"provider": "dashscope", "model": "wan-ok", "task_price": 0.01}],
                "qwen-image": [{"provider": "dashscope", "model": "qwen-image-plus", "task_price": 0.01}],
                "suno-v5": [{"provider": "suno", "model": "V5", "task_price": 0.01}],
            },
            "tasks": {"poll_interval_seconds": 30},
        },
        "fuzz.yaml",
    )
    server = GatewayThread(App(config)).start()
    client = httpx.Client(timeout=30)  # one client: making one costs ~60 ms (its TLS context)
    created = client.post(
        server.url + "/admin/v1/keys", json={"name": "fuzz"}, headers={"Authorization": f"Bearer {ADMIN}"}
    ).json()
    yield client, server.url, created["key"]
    client.close()
    server.stop()


def _routes() -> list[tuple[str, str, str]]:
    from anygate.admin.family import FAMILY as ADMIN_FAMILY
    from anygate.protocols import families

    return [(family.name, r.method, r.path) for family in [*families(), ADMIN_FAMILY] for r in family.routes]


def _concrete(path: str, ident: str) -> str:
    path = path.replace("{version:v1beta|v1}", "v1beta").replace("{model}", "mock-fast")
    return re.sub(r"\{[a-z_]+\}", lambda _: quote(ident, safe="") or "x", path)


@pytest.mark.parametrize(("family", "method", "path"), _routes())
def test_no_input_makes_a_route_fail_with_a_5xx(
    served: tuple[httpx.Client, str, str], family: str, method: str, path: str
) -> None:
    client, base, key = served
    headers = {"Authorization": f"Bearer {ADMIN if family == 'admin' else key}"}
    valid = _route_body(path)
    bodies = mutated(valid) if valid is not None and method in ("POST", "PATCH") else st.one_of(st.none(), _json_values())
    queries = st.dictionaries(st.sampled_from(QUERY_NAMES), ODD_TEXT, max_size=3)
    seen: list[tuple[int, bytes]] = []

    @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(body=bodies, ident=ODD_TEXT, query=queries, raw=st.sampled_from([None] * 8 + RAW_BODIES))
    def one(body: Any, ident: str, query: dict[str, str], raw: tuple[str, bytes] | None) -> None:
        url = base + _concrete(path, ident)
        kind, content = raw if raw is not None else ("application/json", json.dumps(body).encode())
        if method not in ("POST", "PATCH"):
            content = b""
        answer = client.request(method, url, params=query, content=content, headers={**headers, "Content-Type": kind})
        seen.append((answer.status_code, answer.content[:300]))
        assert answer.status_code < 500, f"{method} {url} {content[:300]!r} -> {answer.status_code} {answer.text[:500]}"
        if answer.status_code >= 400 and family in ERROR_SHAPES:
            assert ERROR_SHAPES[family](answer.json()), f"{method} {url} -> {answer.status_code} {answer.text[:300]}"

    one()
    assert len(seen) >= 5
