"""The database tables. Times are epoch seconds (floats): portable across SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every table."""


class ApiKey(Base):
    """A gateway API key; only its SHA-256 hash and a short prefix are stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    models: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list, or NULL for all models
    rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_concurrency: Mapped[int | None] = mapped_column(Integer, nullable=True)
    budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # the sum of its budget holds
    webhook_secret: Mapped[str | None] = mapped_column(String(80), nullable=True)  # signs this key's task webhooks
    rpd: Mapped[int | None] = mapped_column(Integer, nullable=True)  # requests per UTC day
    tpd: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # tokens per UTC day


class UsageRecord(Base):
    """One call through the gateway: who, which model and target, tokens, cost, latency, outcome."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_key_time", "key_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    family: Mapped[str] = mapped_column(String(32))
    public_model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100))
    upstream_model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[int] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # JSON of what a plain call has not: the error it ended with, its failed attempts, its upstream and
    # first-byte times (None for a call answered at the first attempt, whole and without error)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


RESPONSE_ID_LENGTH = 64  # the longest id a stored response may have (OpenAI's are 53 characters)


class StoredResponse(Base):
    """A Responses API response kept for `previous_response_id` and retrieval, visible to its key only."""

    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_key", "key_id", "created_at"), Index("ix_stored_responses_time", "created_at"))

    id: Mapped[str] = mapped_column(String(RESPONSE_ID_LENGTH), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)
    input_items: Mapped[str] = mapped_column(Text)  # JSON: the whole conversation the response answered
    response: Mapped[str] = mapped_column(Text)  # JSON: the response object as the client got it


class UpstreamObject(Base):
    """An object an upstream handed out (file, batch, assistant, thread): which provider holds it and
    which key created it (no other key sees it)."""

    __tablename__ = "upstream_objects"
    __table_args__ = (Index("ix_upstream_objects_key", "key_id", "kind"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)


class Task(Base):
    """A media or music task: the gateway's id for an upstream job, polled until it ends, billed once."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_due", "state", "next_poll_at"),
        Index("ix_tasks_key", "key_id", "created_at"),
        Index("ix_tasks_idempotency", "key_id", "idempotency_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    family: Mapped[str] = mapped_column(String(32))  # the client's API: dashscope, kling, suno, openai-video
    kind: Mapped[str] = mapped_column(String(64))  # the route's task kind, e.g. video-synthesis, text2video, generate
    public_model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100))
    upstream_model: Mapped[str] = mapped_column(String(200))
    upstream_id: Mapped[str] = mapped_column(String(200))  # empty while the submit is under way (or was cut off)
    state: Mapped[str] = mapped_column(String(16))  # pending, running, succeeded, failed
    upstream_status: Mapped[str] = mapped_column(String(64))  # the upstream's own word for the state
    progress: Mapped[int] = mapped_column(Integer, default=0)
    request: Mapped[str] = mapped_column(Text)  # JSON: the client's body
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the upstream's latest answer about it
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    billing: Mapped[str] = mapped_column(String(16))  # reserved, settled, released
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    deadline_at: Mapped[float] = mapped_column(Float)
    next_poll_at: Mapped[float] = mapped_column(Float)
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the client's, unique per key


class WebhookDelivery(Base):
    """One webhook event of a task, retried until the receiver takes it or the retry period ends."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhooks_due", "state", "next_attempt_at"), Index("ix_webhooks_task", "task_id"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the event id the receiver sees
    task_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(64))  # what changed, e.g. complete, first, failed
    payload: Mapped[str] = mapped_column(Text)  # JSON body, as sent every time
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)


class ReplayEntry(Base):
    """What a translated tool call needs when the client sends it back: its signature, and for a turn's
    first call the signed thinking before it; shared by every worker and instance."""

    __tablename__ = "replay_entries"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the tool call's id
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    thinking: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: [{text, signature, redacted}]
    created_at: Mapped[float] = mapped_column(Float, index=True)


class BudgetHold(Base):
    """Money reserved against a key's budget for a call or task in flight, until it is settled; one
    that outlives `expires_at` (its instance died) is released by any instance."""

    __tablename__ = "budget_holds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # a task's hold has the task's id
    key_id: Mapped[str] = mapped_column(String(32))
    amount_usd: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
