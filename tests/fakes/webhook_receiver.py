"""A receiver of task webhooks: records every delivery; `/hook/flaky-…` answers 500 to the first one,
`/hook/down-…` answers 500 to all until `mend` is called with its name."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Delivery:
    """One webhook as it arrived."""

    path: str
    headers: dict[str, str]
    raw: bytes
    received: float = field(default_factory=time.time)

    @property
    def body(self) -> Any:
        """The JSON body."""
        return orjson.loads(self.raw)


class WebhookReceiver:
    """The receiver's state: every delivery by path, for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._seen: Counter[str] = Counter()
        self._mended: set[str] = set()
        self.app = web.Application()
        self.app.router.add_post("/hook/{name}", self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(request.path, dict(request.headers), await request.read())
        self.deliveries.append(delivery)
        self._seen[request.path] += 1
        if request.match_info["name"].startswith("flaky") and self._seen[request.path] == 1:
            return web.Response(status=500, text="try again")
        if request.match_info["name"].startswith("down") and request.match_info["name"] not in self._mended:
            return web.Response(status=500, text="down for maintenance")
        return web.Response(text="ok")

    def mend(self, name: str) -> None:
        """From now on `/hook/<name>` takes its deliveries."""
        self._mended.add(name)

    def at(self, name: str) -> list[Delivery]:
        """The deliveries to `/hook/<name>`, in order."""
        return [d for d in self.deliveries if d.path == f"/hook/{name}"]
