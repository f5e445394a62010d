"""Which URLs the gateway may reach when a client or an upstream hands it one (images, task callbacks,
upstream asset URLs): http(s) only, a valid port, and a host whose every address is public unless the
configuration allows private ones.

A name is resolved once, by `PublicResolver`, at the moment of connecting: the connection goes to the
address that was checked, so a name that resolves to a public address for the check and a private one
for the connect (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import SplitResult, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from anygate.core.errors import ErrorKind, GatewayError

# Ranges that carry another address inside them, or that Python's `is_global` counts as global although
# no public service lives there: refused whatever the embedded address is.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "::/96",  # IPv4-compatible (deprecated): ::a.b.c.d
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local use
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)


class NotPublic(OSError):
    """A host resolved to an address the gateway may not connect to."""


def non_public_reason(address: str) -> str | None:
    """Why the gateway may not connect to `address` (an IP literal), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "it is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast:
        return "its host is a multicast address"
    if not ip.is_global:
        return "its host is a private, loopback or link-local address"
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _REFUSED_NETWORKS):
        return "its host is an address with an IPv4 address inside (NAT64, 6to4, Teredo or IPv4-compatible)"
    return None


def _parts(url: str) -> tuple[SplitResult, int] | str:
    """The URL's parts and port, or why it cannot be used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "only http and https URLs can be used"
    if port == 0:
        return "it is not a valid URL"
    if any(c in url for c in "\x00\r\n\t "):
        return "it is not a valid URL"
    return parts, port or (443 if parts.scheme == "https" else 80)


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be fetched, judged without resolving its name; None when it may be tried."""
    parts = _parts(url)
    if isinstance(parts, str):
        return parts
    host = parts[0].hostname or ""
    if allow_private:
        return None
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return "its host is a private, loopback or link-local address"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: judged by PublicResolver when connecting
    return non_public_reason(host)


async def check_public_url(url: str, allow_private: bool, what: str) -> None:
    """GatewayError 400 naming `what` and the reason when `url` may not be reached (its name resolved
    now, for an early answer; the connection itself is checked again by PublicResolver)."""

    def refuse(why: str) -> GatewayError:
        return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the {what} {url[:200]}: {why}")

    problem = url_problem(url, allow_private)
    if problem:
        raise refuse(problem)
    if allow_private:
        return
    parts = _parts(url)
    assert not isinstance(parts, str)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts[0].hostname, parts[1], type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise refuse("its host does not resolve") from None
    for info in infos:
        reason = non_public_reason(str(info[4][0]))
        if reason:
            raise refuse(reason)


class PublicResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses (NotPublic) a name with any address that
    is not public; the connector connects to exactly the addresses returned."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host.lower().rstrip(".") == "localhost" or host.lower().rstrip(".").endswith(".localhost"):
            raise NotPublic("its host is a private, loopback or link-local address")
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            reason = non_public_reason(result["host"])
            if reason:
                raise NotPublic(reason)
        return results

    async def close(self) -> None:
        await self._resolver.close()


def resolver_refusal(exc: BaseException) -> str | None:
    """The reason when a client error is PublicResolver refusing a host."""
    cause: Any = getattr(exc, "os_error", None) or exc.__cause__
    return str(cause) if isinstance(cause, NotPublic) else None
