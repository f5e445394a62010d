"""What a task provider (an upstream's task API) and a task family (a client's task API) provide.

A provider submits jobs and reads their state in its own API's terms and says what it means in one
state machine (TaskStatus); a family renders the gateway's task records in its client's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from anygate.config import ProviderConfig


class TaskState(StrEnum):
    """Where a task stands, whatever the upstream calls it."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED = frozenset({TaskState.SUCCEEDED, TaskState.FAILED})


@dataclass(slots=True)
class TaskStatus:
    """One reading of an upstream task: the state, the upstream's own word for it, progress, failure."""

    state: TaskState
    upstream_status: str
    progress: int = 0
    error: str | None = None


@dataclass(slots=True)
class Submitted:
    """An upstream's answer to a submit: its task id, its body, and the state it reports."""

    upstream_id: str
    raw: dict[str, Any]
    status: TaskStatus


@dataclass(slots=True)
class Polled:
    """An upstream's answer to a query: what it means, and the body as it came."""

    status: TaskStatus
    raw: dict[str, Any] = field(default_factory=dict)


class TaskProvider(Protocol):
    """A configured upstream that runs tasks: which kinds it takes, how to submit and query them."""

    name: str
    config: ProviderConfig
    kinds: frozenset[str]

    async def submit(self, kind: str, body: dict[str, Any], reference: str) -> Submitted:
        """Submit a job of `kind` (the body in the upstream's API, model already swapped). `reference` is
        the gateway's task id: an upstream that keeps a caller's own id for a job gets it, to `find` by."""
        ...

    async def find(self, kind: str, body: dict[str, Any], reference: str) -> Submitted | None:
        """The job a submit of `body` with `reference` started, for a submit whose answer was lost (the
        gateway stopped mid-way); None when the upstream has no such job or cannot look jobs up so."""
        ...

    async def query(self, kind: str, upstream_id: str) -> Polled:
        """Read the state of a job."""
        ...


@dataclass(slots=True)
class TaskView:
    """What a family needs to render a task: the stored record, in plain values."""

    id: str
    kind: str
    public_model: str
    provider: str
    upstream_id: str
    state: TaskState
    upstream_status: str
    progress: int
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: float
    updated_at: float


class TaskFamily(Protocol):
    """A client task API: the webhook events one state change makes, in the family's shape."""

    name: str

    def events(self, task: TaskView, before: TaskStatus | None) -> list[tuple[str, dict[str, Any]]]:
        """(event name, body) of each webhook the change from `before` to `task`'s state calls for."""
        ...
