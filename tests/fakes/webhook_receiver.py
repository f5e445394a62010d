"""A receiver of task webhooks: records every delivery; `/hook/flaky-…` answers 500 to the first one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Delivery:
    """One webhook as it arrived."""

    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        """The JSON body."""
        return orjson.loads(self.raw)


class WebhookReceiver:
    """The receiver's state: every delivery by path, for assertions."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._seen: Counter[str] = Counter()
        self.app = web.Application()
        self.app.router.add_post("/hook/{name}", self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(request.path, dict(request.headers), await request.read())
        self.deliveries.append(delivery)
        self._seen[request.path] += 1
        if request.match_info["name"].startswith("flaky") and self._seen[request.path] == 1:
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    def at(self, name: str) -> list[Delivery]:
        """The deliveries to `/hook/<name>`, in order."""
        return [d for d in self.deliveries if d.path == f"/hook/{name}"]
