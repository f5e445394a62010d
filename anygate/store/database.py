"""The async engine for a configured database URL, and schema migration to the newest revision."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
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


def head_revision() -> str:
    """The newest migration's revision: the number its file name starts with (as each one's `revision` is)."""
    return max(path.name.partition("_")[0] for path in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection) -> None:
    from alembic import command  # a large import (~12 MB), made only when the schema is behind
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; safe to run at every start)."""
    async with engine.begin() as conn:
        if await conn.run_sync(_current) != head_revision():
            await conn.run_sync(_upgrade)
