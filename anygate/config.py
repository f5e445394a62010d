"""The YAML configuration: loading, `${VAR}` interpolation, validation with exact key paths, defaults."""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from anygate.defaults import default_config_data

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# `${VAR}` is not valid YAML inside a flow mapping ({a: ${X}}), as the contract's example writes it:
# references become this plain-scalar token before parsing, and are resolved per key path after.
_REF = re.compile(r"ANYGATE_ENV_REF\(([A-Za-z_][A-Za-z0-9_]*)\)")


class ConfigError(Exception):
    """A configuration that cannot be used; each line names the file, the key path and the reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@cache
def provider_types() -> tuple[str, ...]:
    """The provider types this build has: each folder of anygate/providers is one (found without
    importing them, so that the configuration needs nothing of the providers' code)."""
    spec = importlib.util.find_spec("anygate.providers")
    assert spec is not None and spec.submodule_search_locations is not None
    return tuple(sorted(info.name for info in pkgutil.iter_modules(spec.submodule_search_locations) if info.ispkg))


class ProviderConfig(_Strict):
    """One upstream provider: what every type takes. A type that takes more declares its own model,
    a subclass of this one, as `SETTINGS` in its package's `settings.py`."""

    type: str
    base_url: str | None = None
    api_key: str | None = None
    passthrough: bool = True  # may take the calls that name no model (files, batches, assistants, threads)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)  # to open the connection
    first_byte_timeout_seconds: float = Field(default=600.0, gt=0)  # to the answer's headers, and a stream's first chunk
    idle_timeout_seconds: float = Field(default=300.0, gt=0)  # the longest silence once the answer has begun
    # the whole call, a stream's last chunk included; none by default (first byte and idle bound a hang,
    # and a total costs a timer per call)
    timeout_seconds: float | None = Field(default=None, gt=0)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in provider_types():
            raise ValueError(f"'{value}' is not a provider type of this build; the types are {', '.join(provider_types())}")
        return value

    def secrets(self) -> list[str | None]:
        """The secrets this provider's configuration holds, to be kept out of logs and error messages."""
        return [self.api_key]


def provider_settings(type_name: str) -> type[ProviderConfig]:
    """The configuration model of a provider type: its package's `settings.py` SETTINGS, or the common one."""
    module = f"anygate.providers.{type_name}.settings"
    if importlib.util.find_spec(module) is None:  # runs the type's package, whose __init__ imports nothing
        return ProviderConfig
    model = importlib.import_module(module).SETTINGS
    assert isinstance(model, type) and issubclass(model, ProviderConfig), module
    return model


def _typed_providers(providers: dict[Any, Any]) -> tuple[dict[Any, Any], list[str]]:
    """Each provider validated with its type's model, and what is wrong with those that are not valid
    (in their place, an unvalidated stand-in, so that the rest of the file can still be checked)."""
    built: dict[Any, Any] = {}
    problems: list[str] = []
    for name, raw in providers.items():
        kind = raw.get("type") if isinstance(raw, dict) else None
        if not isinstance(kind, str) or kind not in provider_types():
            built[name] = raw  # the common model says what is wrong with it
            continue
        try:
            built[name] = provider_settings(kind).model_validate(raw)
        except ValidationError as exc:
            problems += described(exc, ("providers", name))
            built[name] = ProviderConfig.model_construct(type=kind)
    return built, problems


class _ProviderProblems(Exception):
    """What is wrong with the providers, each line with its key path (pydantic passes it through)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class TargetConfig(_Strict):
    """One upstream target of a public model."""

    provider: str
    model: str
    weight: float = Field(default=1.0, gt=0)
    priority: int = Field(default=0, ge=0)
    input_price: float | None = Field(default=None, ge=0)
    output_price: float | None = Field(default=None, ge=0)
    # beyond the contract: prompt tokens read from and written to the upstream's cache, per million
    # (unset: priced as input)
    cache_read_price: float | None = Field(default=None, ge=0)
    cache_write_price: float | None = Field(default=None, ge=0)
    task_price: float | None = Field(default=None, ge=0)
    hosted_tools: Literal["drop", "refuse"] = (
        "drop"  # beyond the contract: hosted tools (web_search, …) a translated call cannot run
    )
    # beyond the contract, read from a model's first target: the name the models lists show, and the task
    # kinds the model serves (unset: every kind its provider runs), e.g. [video-synthesis]
    display_name: str | None = None
    tasks: list[str] | None = None
    created_at: datetime | None = None  # when the model was released, as the models lists show it (unset: the gateway's start)
    # beyond the contract: audio prices, USD per million characters of speech made, and per minute of
    # audio transcribed or translated (unset: the tokens the upstream reports, at the token prices)
    character_price: float | None = Field(default=None, ge=0)
    minute_price: float | None = Field(default=None, ge=0)
    # beyond the contract: the price of one task kind or route in place of task_price, e.g.
    # {wav-generate: 0.004, style-generate: 0.001} (routes answered at once cost nothing otherwise)
    route_prices: dict[str, Annotated[float, Field(ge=0)]] | None = None


class RoutingConfig(_Strict):
    """Retries and fallbacks before the first byte reaches the client."""

    max_attempts: int = Field(default=3, ge=1, le=10)  # upstream calls per request, retries and fallbacks included
    max_retry_wait_seconds: float = Field(default=2.0, ge=0)  # a longer Retry-After moves on instead of waiting
    deadline_seconds: float = Field(default=30.0, gt=0)  # no new attempt starts this long after the request came in


class TasksConfig(_Strict):
    """Settings of the media and music task engine."""

    poll_interval_seconds: float = Field(default=5.0, gt=0)
    deadline_seconds: float = Field(default=86400.0, gt=0)
    webhook_allow_private: bool = False
    webhook_retry_seconds: float = Field(default=86400.0, gt=0)  # beyond the contract: how long a webhook is retried
    webhook_backoff_seconds: float = Field(default=1.0, gt=0)  # beyond the contract: the first retry's wait (doubling)
    # beyond the contract: how long an instance's claim on a task or delivery lasts unrenewed; it is
    # renewed while the work goes on, so this is how soon the work of an instance that died resumes
    lease_seconds: float = Field(default=10.0, ge=0.5, le=3600)


SECRET_FIELDS = ("api_key", "access_key", "secret_key", "admin_key", "metrics_token", "database", "redis")


class ServerConfig(_Strict):
    """Beyond the contract: how long a client may take to send a request, and how many may connect."""

    header_timeout_seconds: float = Field(
        default=30.0, gt=0
    )  # from connecting (or a request's first byte) to the end of its headers
    body_timeout_seconds: float = Field(default=120.0, gt=0)  # to send a request's whole body
    max_connections: int | None = Field(default=None, ge=1)  # unset: what the process's open-file limit leaves (at most 10,000)
    # on SIGTERM, how long requests in flight may take to end; streams still open then end with an error event
    shutdown_grace_seconds: float = Field(default=30.0, gt=0, le=3600)


class LimitsConfig(_Strict):
    """Beyond the contract: how limits and budgets behave at their edges."""

    # output tokens reserved against a budget for a call that sets no max_tokens (or its family's field)
    reserve_output_tokens: int = Field(default=16384, ge=1, le=10_000_000)
    # when Redis does not answer a limit check: let the call through (the default: an outage of the
    # limiter must not become an outage of the gateway, and budgets are kept in the database anyway),
    # or refuse it with a 503
    on_redis_error: Literal["allow", "deny"] = "allow"


class RetentionConfig(_Strict):
    """Beyond the contract: how long records are kept; None keeps them for good."""

    usage_days: float | None = Field(default=None, gt=0)  # usage records (a key's spend is kept with the key)
    responses_days: float | None = Field(default=30.0, gt=0)  # stored Responses API responses, as OpenAI keeps them
    replay_days: float | None = Field(default=7.0, gt=0)  # signatures and thinking kept for replayed tool calls


class MeteringConfig(_Strict):
    """Beyond the contract: when usage records reach the database."""

    # batch: queued and written every half second off the request path (a crash loses at most the
    # last half second's records); sync: an answer's record is written before its last byte, and a
    # stream's before its end event (written together with the records of other calls ending then)
    durability: Literal["batch", "sync"] = "batch"


class Settings(_Strict):
    """The whole gateway configuration."""

    database: str = "sqlite:///./anygate.db"
    redis: str | None = None
    admin_key: str | None = None
    metrics_token: str | None = None  # beyond the contract: a token that may read /metrics (the admin key may too)
    fetch_allow_private: bool = False  # image URLs fetched for Gemini upstreams may point at private hosts
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    models: dict[str, list[TargetConfig]] = Field(default_factory=dict)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    metering: MeteringConfig = Field(default_factory=MeteringConfig)
    source: str = Field(default="<built-in default>", exclude=True)

    def secrets(self) -> list[str | None]:
        """Every secret the configuration holds, to be kept out of logs."""
        urls = [urlsplit(u) for u in (self.database, self.redis) if u]
        keys = [value for p in self.providers.values() for value in p.secrets()]
        return [self.admin_key, self.metrics_token, *keys, *(u.password for u in urls)]

    @model_validator(mode="before")
    @classmethod
    def _providers_by_type(cls, data: Any) -> Any:
        """Each provider validated with its type's own model (a type it does not know is left to the
        common model, which names the types there are)."""
        if not isinstance(data, dict) or not isinstance(data.get("providers"), dict):
            return data
        built, problems = _typed_providers(data["providers"])
        if problems:
            raise _ProviderProblems(problems)
        return {**data, "providers": built}

    @field_validator("database")
    @classmethod
    def _database_url(cls, url: str) -> str:
        scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"'{scheme or url}' is not a database this gateway uses: give sqlite:///path/to/file.db or postgresql://user:password@host/db"
            )
        if scheme == "sqlite" and not url.split(":", 1)[1].startswith("///"):
            raise ValueError(
                "a SQLite URL has three slashes before its path: sqlite:///./anygate.db (relative) or sqlite:////var/lib/anygate.db"
            )
        return url

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("give a redis://host:port/db (rediss:// with TLS, or unix:///path) URL")
        return url

    @model_validator(mode="after")
    def _targets_name_known_providers(self) -> Settings:
        problems = []
        for name, targets in self.models.items():
            if not targets:
                problems.append(f"models.{name}: needs at least one target")
            for i, target in enumerate(targets):
                if target.provider not in self.providers:
                    known = ", ".join(sorted(self.providers)) or "none"
                    problems.append(f"models.{name}[{i}].provider: unknown provider '{target.provider}' (configured: {known})")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _interpolate(node: Any, path: str, problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(node)]
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            value = os.environ.get(match.group(1))
            if value is None:
                problems.append(f"{path}: environment variable {match.group(1)} is not set")
                return ""
            return value

        return _REF.sub(replace, node)
    return node


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def settings_from_data(data: Any, source: str) -> Settings:
    """Validate parsed YAML data into Settings, or raise ConfigError naming each bad key path."""
    if data is None:
        raise ConfigError([f"{source}: the file is empty: add providers and models, or remove it to run on the built-in default"])
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the top level must be a mapping of keys"])
    problems: list[str] = []
    data = _interpolate(data, "", problems)
    if problems:
        raise ConfigError([f"{source}: {p}" for p in problems])
    if isinstance(data.get("providers"), dict):  # each with its type's model, every problem reported at once
        typed, problems = _typed_providers(data["providers"])
        data = {**data, "providers": typed}
    try:
        settings = Settings.model_validate({**data, "source": source})
    except ValidationError as exc:
        problems += described(exc)
    if problems:
        raise ConfigError([f"{source}: {p}" for p in problems]) from None
    return settings


def described(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[str]:
    """One line per error: its key path (under `prefix`) and what is wrong, never a secret's value."""
    problems: list[str] = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        where = _loc(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        elif err["type"] == "value_error" and not loc:
            problems.extend(str(err["ctx"]["error"]).split("; "))
        elif err["type"] == "value_error":  # a check of ours: its message says it all
            problems.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        elif loc and str(loc[-1]) in SECRET_FIELDS:  # a mistyped secret is still a secret
            problems.append(f"{where}: {err['msg']} (got a value of type {type(err.get('input')).__name__})")
        else:
            problems.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return problems


def resolve_config_path(explicit: str | None) -> Path | None:
    """The config file to use: --config, then $ANYGATE_CONFIG, then ./anygate.yaml, else None (built-in)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ANYGATE_CONFIG")
    if env:
        return Path(env)
    local = Path("anygate.yaml")
    return local if local.exists() else None


def load_settings(explicit: str | None = None) -> Settings:
    """Load and validate the configuration by the search order of the contract."""
    path = resolve_config_path(explicit)
    if path is None:
        return settings_from_data(default_config_data(os.environ), "<built-in default>")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(_VAR.sub(r"ANYGATE_ENV_REF(\1)", text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from None
    return settings_from_data(data, str(path))
