"""Which addresses and URLs the gateway may fetch when a client or an upstream hands it one, and how the
outbound client connects, redirects and bounds what it reads, against real loopback servers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.outbound import Outbound, read_bounded
from anygate.core.public_url import PublicResolver, non_public_reason, url_problem
from tests.fakes.server_thread import free_port

REFUSED = {
    "127.0.0.1": "private",
    "10.1.2.3": "private",
    "100.64.0.1": "private",  # carrier-grade NAT
    "169.254.169.254": "private",
    "0.0.0.0": "private",
    "::1": "private",
    "fe80::1": "private",
    "fc00::1": "private",
    "::ffff:127.0.0.1": "private",  # IPv4-mapped
    "::ffff:10.0.0.1": "private",
    "::127.0.0.1": "IPv4 address inside",  # IPv4-compatible
    "::8.8.8.8": "IPv4 address inside",
    "64:ff9b::7f00:1": "IPv4 address inside",  # NAT64 of 127.0.0.1
    "64:ff9b::808:808": "IPv4 address inside",
    "64:ff9b:1::a00:1": "",  # NAT64 for local use (private to newer Pythons, embedded to the filter)
    "2002:7f00:1::1": "IPv4 address inside",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "",  # Teredo (Python counts it private, the filter too)
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
}


@pytest.mark.parametrize("address", list(REFUSED))
def test_non_public_addresses_are_refused(address: str) -> None:
    reason = non_public_reason(address)
    assert reason is not None and REFUSED[address] in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(address) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///x", "only http and https"),
        ("http://example.com:99999/x", "not a valid URL"),
        ("http://example.com:0/x", "not a valid URL"),
        ("http://[::1/x", "not a valid URL"),
        ("http://exa mple.com/x", "not a valid URL"),
        ("http://example.com/x\x00", "not a valid URL"),
        ("http://localhost:8080/x", "loopback"),
        ("http://api.localhost/x", "loopback"),
        ("http://[::ffff:127.0.0.1]/x", "private"),
        ("http://[64:ff9b::7f00:1]/x", "IPv4 address inside"),
    ],
)
def test_unusable_urls_are_refused_without_a_lookup(url: str, why: str) -> None:
    problem = url_problem(url, allow_private=False)
    assert problem is not None and why in problem


def test_private_urls_pass_when_allowed_but_bad_ones_never_do() -> None:
    assert url_problem("http://127.0.0.1:9/x", allow_private=True) is None
    assert url_problem("gopher://127.0.0.1/x", allow_private=True) is not None
    assert url_problem("https://example.com/x", allow_private=False) is None  # a name: judged when connecting


class _Stub(AbstractResolver):
    """A DNS that answers `address` for every name and counts the lookups."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.lookups = 0

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups += 1
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


async def test_a_name_is_resolved_once_and_refused_when_any_address_is_private() -> None:
    resolver = PublicResolver()
    stub = _Stub("127.0.0.1")
    resolver._resolver = stub  # type: ignore[assignment]  # the DNS answer a rebinding attacker would give
    with pytest.raises(OSError, match="private"):
        await resolver.resolve("rebind.example", 80)
    stub.address = "8.8.8.8"
    assert [r["host"] for r in await resolver.resolve("rebind.example", 80)] == ["8.8.8.8"]
    assert stub.lookups == 2, "one lookup per connection: the address checked is the one connected to"


class _Refused(GatewayError):
    def __init__(self, why: str) -> None:
        super().__init__(ErrorKind.INVALID_REQUEST, why)


@pytest.fixture
async def origin() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            {"path": request.path, "method": request.method, "headers": dict(request.headers), "body": await request.read()}
        )
        hops = {"/one": "/two", "/two": "/three", "/three": "/four", "/away": "ftp://127.0.0.1/x", "/nowhere": "http://[::1"}
        if request.path in hops:
            raise web.HTTPTemporaryRedirect(hops[request.path])
        if request.path == "/big":
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(16):
                await response.write(b"x" * 65536)
            return response  # type: ignore[return-value]
        return web.Response(text="here")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


async def test_redirects_are_followed_only_as_far_as_asked_each_hop_checked_and_bare(
    origin: tuple[TestServer, list[dict[str, Any]]],
) -> None:
    server, seen = origin
    outbound = Outbound()
    outbound.start()
    timeout = aiohttp.ClientTimeout(total=5)
    base = str(server.make_url(""))
    try:
        resp = await outbound.open(
            base + "/one",
            _Refused,
            allow_private=True,
            timeout=timeout,
            method="POST",
            data=b"secret",
            headers={"X-Key": "k"},
            redirects=2,
        )
        assert resp.status == 307 and resp.url.path == "/three"  # the answer to the last hop allowed, as it is
        resp.release()
        assert [(s["path"], s["method"], s["body"]) for s in seen] == [
            ("/one", "POST", b"secret"),
            ("/two", "GET", b""),
            ("/three", "GET", b""),
        ]
        assert seen[0]["headers"]["X-Key"] == "k" and all("X-Key" not in s["headers"] for s in seen[1:])
        resp = await outbound.open(base + "/one", _Refused, allow_private=True, timeout=timeout)
        assert resp.status == 307 and len(seen) == 4, "no redirect is followed unless asked"
        resp.release()
        with pytest.raises(_Refused, match="only http and https"):
            await outbound.open(base + "/away", _Refused, allow_private=True, timeout=timeout, redirects=3)
        with pytest.raises(_Refused, match="private, loopback"):
            await outbound.open(base + "/one", _Refused, allow_private=False, timeout=timeout, redirects=3)
        resp = await outbound.open(base + "/big", _Refused, allow_private=True, timeout=timeout)
        assert await read_bounded(resp, 65536 * 16 - 1) is None, "too big is None, never a truncated body"
        resp = await outbound.open(base + "/big", _Refused, allow_private=True, timeout=timeout)
        assert len(await read_bounded(resp, 65536 * 16) or b"") == 65536 * 16
    finally:
        await outbound.close()


async def test_an_asset_that_cannot_be_fetched_is_the_upstreams_fault(origin: tuple[TestServer, list[dict[str, Any]]]) -> None:
    server, _ = origin
    outbound = Outbound()
    outbound.start()
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        for url, allow_private, code in (
            (f"http://127.0.0.1:{free_port()}/x.png", True, "upstream_unreachable"),  # nothing listens: a 502, not a 500
            (str(server.make_url("/away")), True, "upstream_bad_response"),  # redirects to ftp://
            (str(server.make_url("/here")), False, "upstream_bad_response"),  # loopback, not allowed
        ):
            with pytest.raises(GatewayError) as refused:
                await outbound.open_asset(url, "image", allow_private=allow_private, timeout=timeout)
            assert refused.value.status == 502 and refused.value.code == code, url
        resp = await outbound.open_asset(str(server.make_url("/here")), "image", allow_private=True, timeout=timeout)
        assert resp.status == 200
        resp.release()
    finally:
        await outbound.close()
