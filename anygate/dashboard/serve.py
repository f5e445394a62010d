"""Serving the dashboard's three files, read once at start; the page itself asks for the admin key."""

from __future__ import annotations

from importlib import resources

from anygate.server import web
from anygate.server.router import Router

_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def add_dashboard(router: Router) -> None:
    """GET /dashboard and its assets (no key needed to load the page; every call it makes needs the admin key)."""
    package = resources.files("anygate.dashboard")
    files = {name: (package.joinpath(name).read_bytes(), kind) for name, kind in _FILES.items()}

    async def page(request: web.Request) -> web.Response:
        name = request.match_info.get("name", "index.html")
        if name not in files:
            return web.Response(status=404, text="404: Not Found")
        body, kind = files[name]
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=_HEADERS)

    router.add("GET", "/dashboard", page)
    router.add("GET", "/dashboard/{name}", page)
