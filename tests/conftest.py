"""Shared fixtures: the service flags, database URLs for SQLite and PostgreSQL, fake upstreams."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.dashscope_upstream import FakeDashScope
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.kling_upstream import FakeKling
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.server_thread import ServerThread
from tests.fakes.suno_upstream import FakeSuno
from tests.fakes.webhook_receiver import WebhookReceiver

REQUIRE_SERVICES = os.environ.get("ANYGATE_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get("ANYGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ANYGATE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def service_missing(what: str, exc: BaseException) -> None:
    """Skip the test for a missing service, or fail it when ANYGATE_REQUIRE_SERVICES=1 (CI)."""
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; ANYGATE_REQUIRE_SERVICES=1 says it must be")
    pytest.skip(f"{message}; install or start it (`make test` installs Debian's chromium where it can) to run this test")


def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    import asyncpg

    name = "anygate_test_" + secrets.token_hex(4)
    admin = POSTGRES_ADMIN_URL

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "missing"
        service_missing("PostgreSQL at " + admin.split("@")[-1], exc)
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test session."""
    yield from _postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each supported backend (PostgreSQL shares one database per session)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/anygate.db"
    return str(request.getfixturevalue("postgres_url"))


def _served(fake: Any) -> Iterator[Any]:
    """`fake` served on a loopback port (its URL in `fake.url`) until the session ends."""
    server = ServerThread(fake.app).start()
    fake.url = server.url
    yield fake
    server.stop()


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    """The fake OpenAI upstream, served on a loopback port for the whole session."""
    yield from _served(FakeOpenAI())


@pytest.fixture(scope="session")
def fake_dashscope() -> Iterator[FakeDashScope]:
    """The fake DashScope upstream, served on a loopback port for the whole session."""
    yield from _served(FakeDashScope())


@pytest.fixture(scope="session")
def fake_kling() -> Iterator[FakeKling]:
    """The fake Kling upstream, served on a loopback port for the whole session."""
    yield from _served(FakeKling())


@pytest.fixture(scope="session")
def fake_suno() -> Iterator[FakeSuno]:
    """The fake Suno API upstream, served on a loopback port for the whole session."""
    yield from _served(FakeSuno())


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A receiver of task webhooks, served on a loopback port for the whole session."""
    yield from _served(WebhookReceiver())


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """The fake Anthropic upstream, served on a loopback port for the whole session."""
    yield from _served(FakeAnthropic())


@pytest.fixture(scope="session")
def fake_gemini() -> Iterator[FakeGemini]:
    """The fake Gemini upstream, served on a loopback port for the whole session."""
    yield from _served(FakeGemini())


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "missing"
        service_missing("Redis at " + REDIS_URL, exc)
    return REDIS_URL
