"""What `serve` and the CLI check before they start, so that an expected failure (the port taken, the
database out of reach) is one line that says what to do, not a traceback."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url

from anygate.config import Settings
from anygate.store.database import create_engine, migrate

_PORT_PROBLEMS = {
    errno.EADDRINUSE: "is in use (another anygate, or another server?): stop it or choose --port",
    errno.EACCES: "may not be opened by this user (ports below 1024 need privileges): choose --port 1024 or above",
    errno.EADDRNOTAVAIL: "is not an address of this machine: choose --host",
}


def without_password(url: str) -> str:
    """`url` with any password masked, for a log line or a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database's file, or None for another database."""
    if not url.startswith("sqlite"):
        return None
    path = make_url(url).database
    return Path(path).resolve() if path and path != ":memory:" else None


def port_problem(host: str, port: int) -> str | None:
    """Why the gateway could not listen on host:port, or None when it can (checked by binding it)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        return f"the host '{host}' cannot be resolved ({exc.strerror}): choose --host"
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            sock.bind(address)
        except OSError as exc:
            why = _PORT_PROBLEMS.get(exc.errno or 0, f"cannot be opened ({exc.strerror})")
            return f"{host}:{port} {why}"
    return None


async def database_problem(url: str) -> str | None:
    """Why the database cannot be used (out of reach, refused, not migratable), or None when it can;
    it is migrated to the current schema on the way."""
    engine = create_engine(url)
    try:
        await migrate(engine)
    except Exception as exc:  # noqa: BLE001 - any failure here is reported in one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"the database {without_password(url)} cannot be used: {reason[:300]}"
    finally:
        await engine.dispose()
    return None


async def reachability(settings: Settings, seconds: float = 5.0) -> list[tuple[str, str | None]]:
    """Each service the configuration names (the database, Redis, each provider's base URL) with why
    it cannot be reached, or None when it answers; a connection is opened, nothing is changed."""
    checks: list[tuple[str, Awaitable[str | None]]] = [
        (f"database {without_password(settings.database)}", _database_answers(settings.database))
    ]
    if settings.redis:
        checks.append((f"redis {without_password(settings.redis)}", _redis_answers(settings.redis)))
    for name, provider in settings.providers.items():
        if provider.base_url:
            checks.append((f"provider {name} {provider.base_url}", _host_answers(provider.base_url)))
    results = []
    for label, check in checks:
        try:
            results.append((label, await asyncio.wait_for(check, seconds)))
        except TimeoutError:
            results.append((label, f"no answer within {seconds:.0f} s"))
        except Exception as exc:  # noqa: BLE001 - each failure is one line of the report
            results.append((label, (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]))
    return results


async def _database_answers(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return None


async def _redis_answers(url: str) -> str | None:
    import redis.asyncio  # only when Redis is configured

    client = redis.asyncio.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return None


async def _host_answers(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{base_url}' is not an http(s) URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    _, writer = await asyncio.open_connection(parts.hostname, port, ssl=parts.scheme == "https")
    writer.close()
    return None
