"""What every provider adapter offers, and the reply of one upstream call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import aiohttp

from anygate.config import ProviderConfig
from anygate.core.codec import UpstreamWire
from anygate.tasks.contract import TaskProvider


class Provider(Protocol):
    """A configured upstream that takes generation requests in its own wire format (`wire`)."""

    name: str
    config: ProviderConfig

    @property
    def wire(self) -> UpstreamWire:
        """The format it takes generation requests in."""
        ...

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """Send one generation request (with headers forwarded from the client on the same-family path);
        raises GatewayError when the upstream fails before answering."""
        ...


@runtime_checkable
class SpeaksPerModel(Protocol):
    """A provider whose models take different wire formats (Claude and Gemini on Vertex, Claude and
    the Converse API on Bedrock): each target is called in its model's."""

    def wire_for(self, upstream_model: str) -> UpstreamWire:
        """The format calls for `upstream_model` are made in."""
        ...


@runtime_checkable
class Embeds(Protocol):
    """A provider that makes embeddings, answering in OpenAI's embeddings shape."""

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """Embed the inputs of an OpenAI embeddings body; a whole JSON reply."""
        ...


@runtime_checkable
class DrawsImages(Protocol):
    """A provider that generates images, answering in OpenAI's images shape."""

    async def generate_images(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """Generate the images of an OpenAI images/generations body; a whole JSON reply."""
        ...


@runtime_checkable
class CountsTokens(Protocol):
    """A provider that counts a request's input tokens itself, with the count route of a target's wire:
    a client of the same family gets the upstream's count rather than an estimate."""

    async def count_tokens(self, upstream_model: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """Count the tokens of a count request in the provider's wire format, for `upstream_model`."""
        ...


@runtime_checkable
class AnswersResponses(Protocol):
    """A provider that can serve OpenAI's Responses API natively (used when its configuration says
    `responses_api: true`)."""

    async def send_responses(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """POST one Responses API request as it is."""
        ...


@runtime_checkable
class DrawsImagesByTask(Protocol):
    """A task provider that answers OpenAI's images API with an image task of one of its `image_kinds`:
    submitted, waited for, and its images' URLs returned."""

    image_kinds: frozenset[str]

    async def draw_images(self, body: dict[str, Any], upstream_model: str) -> list[str]:
        """The URLs of the images an OpenAI images/generations body asks for."""
        ...


@dataclass(frozen=True, slots=True)
class VideoAsk:
    """An OpenAI videos request, read and checked: what every video provider takes from it."""

    body: dict[str, Any]  # as the client sent it, for the fields a provider takes as they are
    prompt: str
    seconds: int
    size: str
    first_frame: str | None
    last_frame: str | None


@runtime_checkable
class MakesVideos(Protocol):
    """A task provider that answers OpenAI's videos API with a video task of one of its `video_kinds`."""

    video_kinds: frozenset[str]

    def video_task(self, ask: VideoAsk, upstream_model: str, kinds: frozenset[str]) -> tuple[str, dict[str, Any]]:
        """The task kind for `ask` on a target that runs `kinds`, and the upstream body of that task."""
        ...


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart form on its way upstream: its fields (in order), then one file whose bytes arrive as
    they are read (from the client, or from a spool when the form had to be read whole first)."""

    fields: list[tuple[str, str]]
    file_field: str
    filename: str
    content_type: str
    chunks: AsyncIterator[bytes]
    rest: Callable[[], Awaitable[list[tuple[str, str]]]]  # the fields after the file, read once it has gone
    failure: list[Exception] = field(default_factory=list)  # why reading the client's file failed, once it has


@dataclass(frozen=True, slots=True)
class Passage:
    """One call passed through to an upstream's OpenAI API as it is: a method and a path under the
    API's base, with a JSON body, a multipart upload or nothing."""

    method: str
    path: str  # e.g. /files/file-abc/content
    query: Mapping[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    upload: Upload | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # forwarded from the client (OpenAI-Beta)


PASS_THROUGH_ROUTES = frozenset({"audio", "moderations", "files", "batches", "assistants", "threads"})  # under /openai/v1/


@runtime_checkable
class PassesThrough(Protocol):
    """A provider that serves some of OpenAI's audio, moderation, file, batch, assistant and thread
    routes as they are (`passes`: which of PASS_THROUGH_ROUTES)."""

    passes: frozenset[str]

    async def pass_through(self, passage: Passage) -> Reply:
        """The upstream's answer: JSON whole, anything else (audio, file content, a run's events) as chunks."""
        ...


async def _nothing() -> None:
    return None


@dataclass(slots=True)
class Reply:
    """A successful upstream answer: a whole JSON body, or a stream of raw bytes to relay.

    Reading `chunks` may raise aiohttp.ClientError or asyncio.TimeoutError when the upstream breaks
    off; the relay turns those into the client family's in-stream error.

    `close` must be awaited once the stream has been read or abandoned; it frees (or aborts) the
    upstream connection, which is how a client that goes away cancels the upstream call.
    """

    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] = field(default=_nothing)
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class ProviderAdapter:
    """The registration of one provider type: its name, how to build a configured provider, for
    generation calls (`build`) or for tasks (`build_tasks`), and what it serves, as data: `chat`,
    `embeddings`, `images`, `responses`, `count_tokens`, the PASS_THROUGH_ROUTES it has, `task:<kind>`
    for each task kind, and `images` / `videos` for a task provider that answers OpenAI's images or
    videos API (a unit test holds this to what the built classes offer)."""

    type: str
    build: Callable[[str, ProviderConfig, aiohttp.ClientSession], Provider] | None = None
    build_tasks: Callable[[str, ProviderConfig, aiohttp.ClientSession], TaskProvider] | None = None
    capabilities: frozenset[str] = frozenset()
