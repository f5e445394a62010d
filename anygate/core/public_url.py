"""Checking that a URL the gateway is asked to reach is http(s) and resolves to public addresses only,
unless the configuration allows private ones (image fetches, task callbacks)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from anygate.core.errors import ErrorKind, GatewayError


async def check_public_url(url: str, allow_private: bool, what: str) -> None:
    """GatewayError 400 naming `what` and the reason when `url` may not be reached."""

    def refuse(why: str) -> GatewayError:
        return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the {what} {url[:200]}: {why}")

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("only http and https URLs can be used")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise refuse("its host does not resolve") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise refuse("its host is a private, loopback or link-local address")
