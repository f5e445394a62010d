"""What a route handler gets besides the request: the gateway, the caller's key, the request id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anygate.auth.keys import KeyRecord
from anygate.metering.budget import Hold

if TYPE_CHECKING:
    from anygate.server.gateway import Gateway
    from anygate.server.web import Request


@dataclass(slots=True, eq=False)  # compared and hashed by identity (a gateway keeps its open streams in a set)
class Call:
    """One authenticated client call."""

    gateway: Gateway
    key: KeyRecord
    request_id: str
    started: float
    counted_tokens: int = 0  # tokens counted against the key's limit before the call, to correct after
    attempts: int = 0  # upstream attempts made (retries and fallbacks included)
    holds_slot: bool = False  # holds one of the key's concurrent slots until the handler ends
    hold: Hold | None = None  # budget reserved for the call, released when its usage is written
    family: str = ""  # the client family of the route
    streaming: bool = False  # a stream's headers have gone out
    upstream_seconds: float = 0.0  # spent waiting on upstreams until one answered (all attempts)
    first_byte_seconds: float = 0.0  # from the request to a stream's headers
    abandon: Callable[[], Awaitable[None]] | None = None  # closes the upstream stream being relayed
    client: Request | None = None  # a stream's request, whose connection the stream watch looks at
    done: bool = False  # the handler has ended
    recorded: bool = False  # its usage record is queued
    model: str = ""  # the public model and provider that answered (or last failed), for the access line
    provider: str = ""
    failures: list[dict[str, Any]] | None = None  # attempts that failed: provider, model, status, ms, error
