"""What `anygate verify` talks with: the gateway, over plain HTTP with each family's own auth header,
and a local receiver for the callbacks of the tasks it starts."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

TIMEOUT_SECONDS = 60.0
MAX_CALLBACK_BYTES = 1024 * 1024
Auth = Literal["bearer", "anthropic", "gemini"]


class Failed(Exception):
    """A check did not get what it expected."""


class Skipped(Exception):
    """A check that does not apply here."""


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

    def call(self, method: str, path: str, body: Any = None, auth: Auth = "bearer", key: str | None = None) -> Answer:
        """One request, authenticated as the family's own SDK does (`bearer`: Authorization;
        `anthropic`: x-api-key and anthropic-version; `gemini`: x-goog-api-key); any HTTP status is an
        answer, a connection failure is Failed."""
        secret = key or self.key
        headers = {
            "bearer": {"Authorization": f"Bearer {secret}"},
            "anthropic": {"x-api-key": secret, "anthropic-version": "2023-06-01"},
            "gemini": {"x-goog-api-key": secret},
        }[auth]
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json", **headers}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
                return Answer(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, dict(err.headers), err.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Failed(f"cannot reach {self.base}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Callback:
    """One callback received: its path, headers and raw body."""

    path: str
    headers: dict[str, str]
    body: bytes


class CallbackReceiver:
    """A local HTTP server that takes the gateway's task callbacks (answering 200 at once, as a
    receiver should) and keeps them; `host` is the name the gateway reaches this machine by."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.received: list[Callback] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                size = min(int(self.headers.get("Content-Length") or 0), MAX_CALLBACK_BYTES)
                callback = Callback(self.path, {k: v for k, v in self.headers.items()}, self.rfile.read(size))
                self.send_response(200)
                self.end_headers()
                with receiver._arrived:
                    receiver.received.append(callback)
                    receiver._arrived.notify_all()

            def log_message(self, *_: Any) -> None:
                return None

        bind = "127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0"  # noqa: S104 - reachable by the gateway
        self._server = ThreadingHTTPServer((bind, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        """The callback URL for one task."""
        return f"http://{self.host}:{self._server.server_address[1]}/anygate-verify/{name}"

    def wait(self, name: str, seconds: float) -> list[Callback]:
        """The callbacks for `name`, once at least one has come (or `seconds` have passed)."""
        path = f"/anygate-verify/{name}"
        with self._arrived:
            self._arrived.wait_for(lambda: any(c.path == path for c in self.received), seconds)
            return [c for c in self.received if c.path == path]

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
