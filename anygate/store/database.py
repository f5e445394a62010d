"""The async engine for a configured database URL, and schema migration to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_MIGRATIONS = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a config URL (`sqlite:///…` or `postgresql://…`)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme '{parsed.drivername}' (use sqlite:/// or postgresql://)")


def create_engine(url: str) -> AsyncEngine:
    """An async engine with pooling suited to the backend."""
    target = async_url(url)
    if target.startswith("sqlite"):
        return create_async_engine(target, connect_args={"timeout": 30})
    return create_async_engine(target, pool_size=5, max_overflow=10, pool_pre_ping=True)


def _upgrade(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; safe to run at every start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
