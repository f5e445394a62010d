"""Calls to an OpenAI-compatible upstream: the body goes as given, the answer comes back as bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.base import Reply
from anygate.providers.upstream_errors import timed_out, unreachable, upstream_error

_DEFAULT_BASE_URL = "https://api.openai.com/v1"
_ERROR_BODY_LIMIT = 64 * 1024


class OpenAIProvider:
    """One configured OpenAI-compatible upstream."""

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        self._http = http
        self._chat_url = (config.base_url or _DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        key = config.api_key
        self._secrets = tuple(s for s in (key,) if s)
        if key and key.lower() != "none":
            self._headers["Authorization"] = f"Bearer {key}"
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=config.connect_timeout_seconds, sock_read=config.timeout_seconds
        )

    async def chat_completions(self, body: dict[str, Any], stream: bool) -> Reply:
        """POST /chat/completions; a whole JSON body, or the SSE bytes to relay when streaming."""
        try:
            resp = await self._http.post(self._chat_url, data=orjson.dumps(body), headers=self._headers, timeout=self._timeout)
        except TimeoutError:
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, type(exc).__name__) from None
        if resp.status >= 400:
            raise await self._failure(resp)
        if stream and resp.content_type == "text/event-stream":
            return Reply(chunks=resp.content.iter_any(), close=_closer(resp))
        try:
            raw = await resp.read()
        except TimeoutError:
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, type(exc).__name__) from None
        finally:
            resp.release()
        if resp.content_type != "application/json" or stream:
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self.name}' answered with {resp.content_type or 'no content type'}, not "
                + ("an event stream" if stream else "JSON"),
                status=502,
                code="upstream_bad_response",
            )
        return Reply(body=raw)

    async def _failure(self, resp: aiohttp.ClientResponse) -> GatewayError:
        try:
            body = await resp.content.read(_ERROR_BODY_LIMIT)
        except (TimeoutError, aiohttp.ClientError):
            body = b""
        finally:
            resp.release()
        return upstream_error(self.name, resp.status, body, self._secrets)


def _closer(resp: aiohttp.ClientResponse) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        if resp.content.at_eof():
            resp.release()
        else:
            resp.close()  # abandon the upstream stream: the client went away or the relay failed

    return close
