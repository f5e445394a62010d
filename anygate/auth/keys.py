"""Key records and their storage: random high-entropy keys, kept only as a SHA-256 hash and a prefix."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.store.tables import ApiKey

KEY_PREFIX = "ag-"
WINDOW_SECONDS = 60  # the rate limit windows: a minute, and a UTC day
DAY_SECONDS = 86400


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the gateway knows of a key (never the key itself)."""

    id: str
    name: str
    prefix: str
    models: tuple[str, ...] | None
    rpm: int | None
    tpm: int | None
    budget_usd: float | None
    expires_at: float | None
    created_at: float
    revoked_at: float | None
    max_concurrency: int | None = None
    webhook_secret: str | None = field(default=None, repr=False)  # signs this key's task webhooks
    rpd: int | None = None  # requests per UTC day
    tpd: int | None = None  # tokens per UTC day
    # (window seconds, requests cap, tokens cap) of each window the key has a cap in, minute first
    caps: tuple[tuple[int, int | None, int | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        windows = ((WINDOW_SECONDS, self.rpm, self.tpm), (DAY_SECONDS, self.rpd, self.tpd))
        object.__setattr__(self, "caps", tuple(w for w in windows if w[1] is not None or w[2] is not None))

    def allows_model(self, model: str) -> bool:
        """True when the key's allowlist is empty or names `model`."""
        return self.models is None or model in self.models

    def is_expired(self, now: float) -> bool:
        """True when the key has an expiry in the past."""
        return self.expires_at is not None and self.expires_at <= now


WEBHOOK_SECRET_PREFIX = "whsec_"
MAX_LIMIT = 2**31 - 1  # the largest rpm, tpm, rpd, tpd or concurrency a key may have (the columns' range)
EXPIRY_RANGE = (0.0, 253370764800.0)  # 1970-01-01 to 9000-01-01: every expiry can be shown as a date


def limit_problem(value: int | None) -> str | None:
    """Why `value` cannot be a key's limit, or None when it can."""
    if value is not None and not 1 <= value <= MAX_LIMIT:
        return f"must be between 1 and {MAX_LIMIT}"
    return None


def expiry_problem(moment: float | None) -> str | None:
    """Why `moment` cannot be a key's expiry, or None when it can."""
    if moment is not None and not EXPIRY_RANGE[0] <= moment < EXPIRY_RANGE[1]:
        return "must be between 1970-01-01 and 9000-01-01"
    return None


def hash_key(key: str) -> str:
    """The stored form of a key. Keys carry 256 random bits, so a plain SHA-256 is safe to store."""
    return hashlib.sha256(key.encode()).hexdigest()


def _record(row: Mapping[Any, Any]) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        models=tuple(orjson.loads(row["models"])) if row["models"] else None,
        rpm=row["rpm"],
        tpm=row["tpm"],
        budget_usd=row["budget_usd"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        max_concurrency=row.get("max_concurrency"),
        webhook_secret=row.get("webhook_secret"),
        rpd=row.get("rpd"),
        tpd=row.get("tpd"),
    )


async def create_key(
    engine: AsyncEngine,
    name: str,
    *,
    models: list[str] | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    budget_usd: float | None = None,
    expires_at: float | None = None,
    max_concurrency: int | None = None,
    rpd: int | None = None,
    tpd: int | None = None,
) -> tuple[str, KeyRecord]:
    """Create and store a key; returns the plaintext key (shown once) and its record."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    row: dict[str, Any] = {
        "id": "key_" + secrets.token_hex(8),
        "name": name,
        "key_hash": hash_key(key),
        "prefix": key[:10],
        "models": orjson.dumps(models).decode() if models else None,
        "rpm": rpm,
        "tpm": tpm,
        "budget_usd": budget_usd,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
        "revoked_at": None,
        "max_concurrency": max_concurrency,
        "rpd": rpd,
        "tpd": tpd,
        "webhook_secret": WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32),
    }
    async with engine.begin() as conn:
        await conn.execute(insert(ApiKey).values(**row))
    return key, _record(row)


async def list_keys(engine: AsyncEngine) -> list[KeyRecord]:
    """Every key, oldest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(ApiKey.__table__).order_by(ApiKey.created_at))).all()
    return [_record(row._mapping) for row in rows]


async def get_key(engine: AsyncEngine, key_id: str) -> KeyRecord | None:
    """One key by its id, or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(ApiKey.__table__).where(ApiKey.id == key_id))).first()
    return _record(row._mapping) if row else None


async def find_by_hash(engine: AsyncEngine, key_hash: str) -> KeyRecord | None:
    """The key whose hash is `key_hash`, or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(ApiKey.__table__).where(ApiKey.key_hash == key_hash))).first()
    return _record(row._mapping) if row else None


async def revoke_key(engine: AsyncEngine, key_id: str) -> bool:
    """Revoke a key; False when no such key exists. Revoking twice keeps the first time."""
    now = time.time()
    async with engine.begin() as conn:
        found = await conn.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id))
        row = found.first()
        if row is None:
            return False
        if row.revoked_at is None:
            await conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=now, updated_at=now))
    return True


async def changed_since(engine: AsyncEngine, since: float) -> list[tuple[str, KeyRecord]]:
    """(hash, record) of every key updated at or after `since`."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(ApiKey.__table__).where(ApiKey.updated_at >= since))).all()
    return [(row.key_hash, _record(row._mapping)) for row in rows]


def iso_time(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC (`…Z`), or None."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z") if ts is not None else None


def key_json(record: KeyRecord) -> dict[str, Any]:
    """A key as the CLI and the admin API show it (never the key itself, nor its webhook secret)."""
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "models": list(record.models) if record.models is not None else None,
        "rpm": record.rpm,
        "tpm": record.tpm,
        "rpd": record.rpd,
        "tpd": record.tpd,
        "max_concurrency": record.max_concurrency,
        "budget_usd": record.budget_usd,
        "expires_at": iso_time(record.expires_at),
        "created_at": iso_time(record.created_at),
        "revoked_at": iso_time(record.revoked_at),
        "status": "revoked" if record.revoked_at else ("expired" if record.is_expired(time.time()) else "active"),
    }


EDITABLE = ("name", "models", "rpm", "tpm", "rpd", "tpd", "max_concurrency", "budget_usd", "expires_at")


async def update_key(engine: AsyncEngine, key_id: str, changes: dict[str, Any]) -> KeyRecord | None:
    """Change a key's name, allowlist, limits, budget or expiry (fields of EDITABLE); None when there is
    no such key. Running gateways see the change within their key cache's refresh."""
    values = {k: v for k, v in changes.items() if k in EDITABLE}
    if "models" in values:
        values["models"] = orjson.dumps(values["models"]).decode() if values["models"] else None
    async with engine.begin() as conn:
        if values:
            await conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(**values, updated_at=time.time()))
        row = (await conn.execute(select(ApiKey.__table__).where(ApiKey.id == key_id))).first()
    return _record(row._mapping) if row else None
