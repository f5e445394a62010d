"""A client family as the server sees it: its routes, its path prefix and how it renders errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from anygate.core.codec import WireCodec
from anygate.core.errors import GatewayError
from anygate.server import web

if TYPE_CHECKING:
    from anygate.server.call import Call

Handler = Callable[[web.Request, "Call"], Awaitable[web.StreamResponse]]
Mode = Literal["sync", "sync+stream", "async-task", "poll"]  # poll: reads a task's state
Auth = Literal["key", "admin"]  # a gateway API key, or the configured admin key


@dataclass(frozen=True, slots=True)
class Route:
    """One client-facing route."""

    method: str
    path: str
    handler: Handler
    summary: str
    mode: Mode = "sync"
    auth: Auth = "key"


@dataclass(frozen=True, slots=True)
class Family:
    """One client API family: where its routes live, the shape of its errors, and the wire formats its
    clients speak that upstreams speak too (the hub's codecs, which the tests enumerate from here)."""

    name: str
    prefix: str
    render_error: Callable[[GatewayError, str], web.Response]
    routes: list[Route] = field(default_factory=list)
    wires: tuple[WireCodec, ...] = ()
