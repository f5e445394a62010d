"""What each wire format (a client family, which is also an upstream's format) provides to the hub.

Translation between any two formats is parse with one and build with the other: one codec per
format, never one translator per pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from anygate.core.chat import ChatRequest, ChatResponse
from anygate.core.errors import GatewayError
from anygate.core.stream import StreamEvent
from anygate.core.usage import Usage


class StreamBroken(GatewayError):
    """An upstream's in-stream error, with the events that came before it in the same chunk (so that
    what the client was sent is not lost with the error)."""

    def __init__(self, err: GatewayError, before: list[StreamEvent]) -> None:
        super().__init__(err.kind, err.message, status=err.status, param=err.param, code=err.code, headers=err.headers)
        self.before = before


def read_events(payloads: list[bytes], read: Callable[[bytes], list[StreamEvent]]) -> list[StreamEvent]:
    """The events of a chunk's event payloads, read one by one; a failing one raises StreamBroken."""
    events: list[StreamEvent] = []
    for payload in payloads:
        try:
            events.extend(read(payload))
        except GatewayError as err:
            raise StreamBroken(err, events) from None
    return events


class StreamParser(Protocol):
    """Turns a wire stream's bytes into canonical events."""

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`; raises GatewayError on an in-stream error from the upstream."""
        ...

    def close(self) -> list[StreamEvent]:
        """The events left at the end of the stream (a StreamEnd when the wire had none but ended cleanly)."""
        ...


class StreamWriter(Protocol):
    """Turns canonical events into a wire stream's bytes, keeping the format's order and indices."""

    content_type: str

    def write(self, event: StreamEvent) -> bytes:
        """The bytes for one event (possibly none, possibly several wire events)."""
        ...

    def error(self, err: GatewayError) -> bytes:
        """The format's in-stream error event, ending the stream."""
        ...


class ClientCodec(Protocol):
    """The client side of a wire format: reading a client's request and answering it whole. A family
    whose answers also stream is a StreamingClientCodec."""

    @property
    def name(self) -> str:
        """The format's name, as usage records give it."""
        ...

    def parse_request(self, body: dict[str, Any]) -> ChatRequest:
        """The canonical form of a client's request."""
        ...

    def build_response(self, resp: ChatResponse, model: str, request_id: str) -> dict[str, Any]:
        """The whole answer in the client's format."""
        ...


class StreamingClientCodec(ClientCodec, Protocol):
    """A client format whose answers may also be streamed."""

    def stream_writer(self, req: ChatRequest, model: str, request_id: str) -> StreamWriter:
        """A writer of the answer as the client's stream."""
        ...


@dataclass(frozen=True, slots=True)
class UpstreamWire:
    """The upstream side of a wire format: what the hub needs to call a provider that speaks it."""

    name: str
    build_request: Callable[[ChatRequest, str], dict[str, Any]]
    parse_response: Callable[[dict[str, Any]], ChatResponse]
    stream_parser: Callable[[], StreamParser]
    response_usage: Callable[[dict[str, Any]], Usage | None]  # the usage in a whole response body, if any
    inline_images: bool = False  # the format takes images only as bytes, so URLs must be fetched first
    # the capabilities of the request's server tools (core/server_tools.py) that the upstream runs itself
    runs: Callable[[ChatRequest], list[str]] | None = None
    # headers a translated request needs (such as the beta flags of Anthropic's server tools)
    request_headers: Callable[[ChatRequest], dict[str, str]] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WireCodec(UpstreamWire):
    """A wire format that clients speak too: the upstream side and the client side (the six conversions)."""

    parse_request: Callable[[dict[str, Any]], ChatRequest]
    build_response: Callable[[ChatResponse, str, str], dict[str, Any]]
    stream_writer: Callable[[ChatRequest, str, str], StreamWriter]  # (client's request, public model, request id)
    stream_error: Callable[[GatewayError, str], bytes]  # the in-stream error event (error, request id)
