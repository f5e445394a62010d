"""The audit of 2026-11-30, as a hostile upstream and a careless operator would attack the gateway:
each test here failed on that day's build."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.fakes.dashscope_upstream import UPSTREAM_KEY as DASHSCOPE_KEY
from tests.fakes.dashscope_upstream import FakeDashScope
from tests.fakes.kling_upstream import API_KEY as KLING_KEY
from tests.fakes.kling_upstream import FakeKling
from tests.fakes.server_thread import ServerThread
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually

STRICT_ADMIN, STRICT_METRICS = "Adm1n%Secret!Value", "metrics$Token#1"  # nothing like a key pattern
SECRETS = {"openai": "sk-openai-upstream-secret", "anthropic": "sk-ant-upstream-secret", "gemini": "gemini-upstream-secret"}


class Trap:
    """A server on another origin that records whatever reaches it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self.server = ServerThread(app).start()

    async def _record(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        return web.json_response({"id": "stolen", "choices": [], "content": [], "candidates": []})


def _redirector(to: str) -> ServerThread:
    """An upstream that answers every call with a 307 to the same path at `to`."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(to + request.path_qs)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    return ServerThread(app).start()


@pytest.fixture(scope="module")
def trap() -> Iterator[Trap]:
    trap = Trap()
    yield trap
    trap.server.stop()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, trap: Trap, fake_kling: FakeKling, fake_dashscope: FakeDashScope
) -> Iterator[GatewayProcess]:
    redirector = _redirector(trap.server.url)
    workdir = tmp_path_factory.mktemp("security")
    quick = {"first_byte_timeout_seconds": 5, "idle_timeout_seconds": 5}
    config: dict[str, Any] = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {
            "openai": {"type": "openai", "base_url": redirector.url + "/v1", "api_key": SECRETS["openai"], **quick},
            "anthropic": {"type": "anthropic", "base_url": redirector.url, "api_key": SECRETS["anthropic"], **quick},
            "gemini": {"type": "gemini", "base_url": redirector.url, "api_key": SECRETS["gemini"], **quick},
            "kling-redirect": {"type": "kling", "base_url": redirector.url, "api_key": KLING_KEY},
            "kling": {"type": "kling", "base_url": fake_kling.url, "api_key": KLING_KEY},  # type: ignore[attr-defined]
            "dashscope": {"type": "dashscope", "base_url": f"{fake_dashscope.url}/api/v1", "api_key": DASHSCOPE_KEY},  # type: ignore[attr-defined]
        },
        "models": {
            "gpt-redirect": [{"provider": "openai", "model": "gpt-x"}],
            "claude-redirect": [{"provider": "anthropic", "model": "claude-x"}],
            "gemini-redirect": [{"provider": "gemini", "model": "gemini-x"}],
            "kling-redirect": [{"provider": "kling-redirect", "model": "kling-ok", "task_price": 0.1}],
            "kling-3.0": [{"provider": "kling", "model": "kling-ok", "task_price": 0.1}],
            "qwen-image": [{"provider": "dashscope", "model": "qwen-image-plus", "task_price": 0.04}],
        },
        "tasks": {"poll_interval_seconds": 0.2},
    }  # fetch_allow_private is off: the fakes' asset URLs are on loopback, and must not be fetched
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()
    redirector.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key(cli=True)["key"])


CALLS = {
    "openai chat": ("/openai/v1/chat/completions", {"model": "gpt-redirect", "messages": [{"role": "user", "content": "hi"}]}),
    "anthropic messages": (
        "/anthropic/v1/messages",
        {"model": "claude-redirect", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    ),
    "gemini generate": ("/gemini/v1beta/models/gemini-redirect:generateContent", {"contents": [{"parts": [{"text": "hi"}]}]}),
    "openai to anthropic": (
        "/openai/v1/chat/completions",
        {"model": "claude-redirect", "messages": [{"role": "user", "content": "hi"}]},
    ),
    "anthropic to gemini": (
        "/anthropic/v1/messages",
        {"model": "gemini-redirect", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    ),
    "streamed": (
        "/openai/v1/chat/completions",
        {"model": "gemini-redirect", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    ),
    "kling task": ("/transtreams/kling/v1/videos/text2video", {"model_name": "kling-redirect", "prompt": "a fox"}),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_an_upstream_redirect_is_an_upstream_error_and_carries_no_key(
    gateway: GatewayProcess, key: str, trap: Trap, name: str
) -> None:
    path, body = CALLS[name]
    before = len(trap.seen)
    answer = httpx.post(
        gateway.url + path, json=body, headers={"Authorization": f"Bearer {key}", "x-goog-api-key": key}, timeout=20
    )
    assert answer.status_code == 502, answer.text
    assert "redirect (HTTP 307)" in answer.text and "stolen" not in answer.text
    assert len(trap.seen) == before, "nothing reached the redirect's target"


def test_an_upstream_asset_on_a_private_address_is_not_fetched(gateway: GatewayProcess, key: str, fake_kling: FakeKling) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(
        gateway.url + "/openai/v1/videos", data={"model": "kling-3.0", "prompt": "a fox"}, headers=headers, timeout=20
    )
    assert created.status_code == 200, created.text
    video = created.json()["id"]
    assert eventually(
        lambda: httpx.get(f"{gateway.url}/openai/v1/videos/{video}", headers=headers).json()["status"] == "completed"
    )
    served = fake_kling.video_downloads
    content = httpx.get(f"{gateway.url}/openai/v1/videos/{video}/content", headers=headers, timeout=20)
    assert content.status_code == 502 and "private, loopback or link-local" in content.json()["error"]["message"]
    assert fake_kling.video_downloads == served


def test_an_upstream_image_on_a_private_address_is_not_fetched(gateway: GatewayProcess, key: str) -> None:
    body = {"model": "qwen-image", "prompt": "a poster", "response_format": "b64_json"}
    answer = httpx.post(
        gateway.url + "/openai/v1/images/generations", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20
    )
    assert answer.status_code == 502 and "image URL cannot be fetched" in answer.json()["error"]["message"]


def test_a_task_model_on_a_generation_route_is_the_callers_mistake_in_every_family(gateway: GatewayProcess, key: str) -> None:
    """A 400 in the family's shape that names the routes the model is called on, not a 503."""
    messages = [{"role": "user", "content": "hi"}]
    headers = {"Authorization": f"Bearer {key}"}
    chat = httpx.post(
        gateway.url + "/openai/v1/chat/completions", json={"model": "kling-3.0", "messages": messages}, headers=headers
    )
    assert chat.status_code == 400 and chat.json()["error"]["param"] == "model"
    assert "/transtreams/kling/v1/videos/" in chat.json()["error"]["message"]
    claude = httpx.post(
        gateway.url + "/anthropic/v1/messages",
        json={"model": "kling-3.0", "max_tokens": 5, "messages": messages},
        headers=headers,
    )
    assert claude.status_code == 400 and claude.json()["error"]["type"] == "invalid_request_error"
    assert "/openai/v1/videos" in claude.json()["error"]["message"]
    gemini = httpx.post(
        gateway.url + "/gemini/v1beta/models/kling-3.0:generateContent",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
        headers={"x-goog-api-key": key},
    )
    assert gemini.status_code == 400 and gemini.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_the_server_header_names_no_versions(gateway: GatewayProcess, key: str) -> None:
    for answer in (
        httpx.get(gateway.url + "/health"),
        httpx.get(gateway.url + "/openai/v1/models"),
        httpx.get(gateway.url + "/nowhere"),
    ):
        assert answer.headers["server"] == "anygate"


def test_a_body_over_the_limit_is_a_413_and_deep_json_a_400(gateway: GatewayProcess, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    huge = b'{"model": "gpt-redirect", "pad": "' + b"x" * (64 * 1024 * 1024) + b'"}'
    answer = httpx.post(gateway.url + "/openai/v1/chat/completions", content=huge, headers=headers, timeout=30)
    assert answer.status_code == 413 and "larger than the gateway takes (64 MB)" in answer.json()["error"]["message"]
    for depth in (255, 600, 1024):
        deep = (
            '{"model": "gpt-redirect", "messages": [{"role": "user", "content": "hi"}], "x": ' + "[" * depth + "]" * depth + "}"
        )
        answer = httpx.post(gateway.url + "/openai/v1/chat/completions", content=deep, headers=headers)
        message = answer.json()["error"]["message"]
        assert answer.status_code == 400 and ("nested more than 254 levels" in message or "depth limit exceeded" in message), (
            depth
        )


def test_video_forms_and_lengths_that_cannot_be_read_are_400s(gateway: GatewayProcess, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    url = gateway.url + "/openai/v1/videos"
    for seconds in ("99999999999999999999", "0", "1e400"):
        answer = httpx.post(url, data={"model": "kling-3.0", "prompt": "x", "seconds": seconds}, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "seconds", seconds
    assert httpx.post(url, json={"model": "kling-3.0", "prompt": "x", "seconds": 10**30}, headers=headers).status_code == 400
    for kind, content in (("multipart/form-data; boundary=x", b"--x\r\nbroken"), ("multipart/form-data", b"--x\r\n\r\n")):
        answer = httpx.post(url, content=content, headers={**headers, "Content-Type": kind})
        assert answer.status_code == 400 and "form body cannot be read" in answer.json()["error"]["message"]


def test_a_nul_in_an_id_is_a_400_not_a_database_error(gateway: GatewayProcess, key: str) -> None:
    for path in (
        "/openai/v1/videos/a%00b",
        "/dashscope/v1/tasks/%00",
        "/openai/v1/responses/resp_%00",
        "/suno/query/task?taskId=%00",
    ):
        answer = httpx.get(gateway.url + path, headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 400 and "NUL" in answer.text, path


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("strict")
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {"mock": {"type": "mock"}},
        "models": {"mock-fast": [{"provider": "mock", "model": "mock-fast"}]},
        "server": {"header_timeout_seconds": 1, "body_timeout_seconds": 1, "max_connections": 20},
        "admin_key": STRICT_ADMIN,
        "metrics_token": STRICT_METRICS,
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


def _connect(gateway: GatewayProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=5)


def _answer(sock: socket.socket) -> bytes:
    """The gateway's whole answer: until its body is in, or the connection closes."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        if length and len(body) >= int(length.group(1)):
            break
    return data


def test_slow_headers_and_slow_bodies_are_cut_off(strict: GatewayProcess) -> None:
    key = strict.create_key(cli=True)["key"]
    with _connect(strict) as slow_headers:
        slow_headers.sendall(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        assert _answer(slow_headers).startswith(b"HTTP/1.1 408")
    with _connect(strict) as slow_body:
        head = f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        slow_body.sendall(head.encode() + b'{"model":')
        answer = _answer(slow_body)
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answer


def test_connections_past_the_cap_are_refused_and_idle_ones_do_not_hold_the_gateway(strict: GatewayProcess) -> None:
    idle = [_connect(strict) for _ in range(20)]
    try:
        time.sleep(0.2)
        with _connect(strict) as extra:
            assert _answer(extra).startswith(b"HTTP/1.1 503")
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(strict.url + "/health").status_code == 200
    held = [_connect(strict) for _ in range(20)]  # a slowloris fills the gateway again: its connections time out
    try:
        answers = [_answer(sock)[:12] for sock in held]  # none is left hanging: too slow, or too many
        assert set(answers) <= {b"HTTP/1.1 408", b"HTTP/1.1 503"} and b"HTTP/1.1 408" in answers
        assert httpx.get(strict.url + "/health").status_code == 200
    finally:
        for sock in held:
            sock.close()


def test_even_the_server_s_own_refusals_name_no_versions(gateway: GatewayProcess) -> None:
    with _connect(gateway) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")  # refused by the HTTP parser
        answer = _answer(sock)
    assert b" 400 Bad Request" in answer and b"Server: anygate\r\n" in answer and b"python" not in answer.lower()


def test_configured_secrets_never_reach_the_log(strict: GatewayProcess) -> None:
    for secret in (STRICT_ADMIN, STRICT_METRICS):
        with _connect(strict) as sock:  # refused by the HTTP parser, whose refusal is logged
            sock.sendall(
                f"GET /metrics HTTP/1.1\r\nAuthorization: Bearer {secret}{'x' * 9000}\r\nBad Header {secret}\r\n\r\n".encode()
            )
            assert b" 400 " in _answer(sock)
    time.sleep(0.5)
    log = strict.log()
    assert "refused a request: 400" in log and STRICT_ADMIN not in log and STRICT_METRICS not in log
