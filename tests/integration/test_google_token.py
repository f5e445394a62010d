"""Google Cloud access tokens (providers/vertex/credentials.py) from the fake token endpoint, through
google-auth and real HTTP: fetched once for any number of concurrent calls, renewed only when about to
run out, and a clear error when the key is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from anygate.core.errors import GatewayError
from anygate.providers.vertex.credentials import GoogleToken
from tests.fakes.server_thread import ServerThread
from tests.fakes.vertex_upstream import FakeVertex


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    served = FakeVertex()
    server = ServerThread(served.app).start()
    served.url = server.url
    yield served
    server.stop()


async def test_one_fetch_serves_concurrent_calls_until_renewal(fake: FakeVertex, tmp_path: Path) -> None:
    token = GoogleToken("vertex", str(fake.key_file(tmp_path)))
    headers = await asyncio.gather(*(token.header() for _ in range(20)))
    assert fake.token_requests == 1 and len({h["Authorization"] for h in headers}) == 1
    issued = headers[0]["Authorization"].removeprefix("Bearer ")
    assert issued in fake.tokens and (await token.header())["Authorization"] == f"Bearer {issued}"
    assert fake.token_requests == 1


async def test_a_token_is_renewed_five_minutes_before_it_runs_out(fake: FakeVertex, tmp_path: Path) -> None:
    fake.expires_in = 301  # renewed one second after it is issued
    token = GoogleToken("vertex", str(fake.key_file(tmp_path)))
    first = await token.header()
    assert await token.header() == first and fake.token_requests == 1
    await asyncio.sleep(1.2)
    renewed = await token.header()
    assert fake.token_requests == 2 and renewed != first


async def test_a_refused_key_is_a_clear_auth_failure(fake: FakeVertex, tmp_path: Path) -> None:
    key_file = fake.key_file(tmp_path)
    key = json.loads(key_file.read_text())
    key["client_email"] = "someone-else@acme-prod.iam.gserviceaccount.com"
    key_file.write_text(json.dumps(key))
    with pytest.raises(GatewayError) as refused:
        await GoogleToken("vertex", str(key_file)).header()
    assert (
        refused.value.code == "upstream_auth_failed"
        and "upstream 'vertex': no Google Cloud access token" in refused.value.message
    )
    with pytest.raises(GatewayError) as missing:
        await GoogleToken("vertex", str(tmp_path / "nowhere.json")).header()
    assert missing.value.code == "upstream_auth_failed"
