"""The machine-readable route indexes: `/api-endpoints.json` lists the routes clients call, each with
a concrete path, its mode and the authentication its family documents; the admin index (the admin
API, `/metrics`, `/dashboard`) is served to the admin key at `/admin/v1/endpoints`."""

from __future__ import annotations

import re
from typing import Any

from anygate import __version__
from anygate.server.family import Family

# how each family's own API documents its key (the gateway takes any of these on every route)
FAMILY_AUTH = {
    "openai": ["Authorization: Bearer <key>"],
    "anthropic": ["x-api-key: <key>", "anthropic-version: 2023-06-01"],
    "gemini": ["x-goog-api-key: <key>", "?key=<key>"],
    "dashscope": ["Authorization: Bearer <key>"],
    "kling": ["Authorization: Bearer <key>"],
    "suno": ["Authorization: Bearer <key>"],
}
ADMIN_AUTH = ["Authorization: Bearer <admin_key>"]
_PATTERN = re.compile(r"\{([a-z_]+):[^}]*\}")  # a framework pattern: {name:regex}


def concrete(path: str) -> str:
    """A route's path as clients write it: Gemini's version as v1beta, `{name:regex}` as `{name}`."""
    return _PATTERN.sub(r"{\1}", path.replace("{version:v1beta|v1}", "v1beta"))


def _entries(family: Family, auth: list[str]) -> list[dict[str, Any]]:
    return [
        {"method": r.method, "path": concrete(r.path), "family": family.name, "auth": auth, "mode": r.mode, "summary": r.summary}
        for r in family.routes
    ]


def public_index(families: list[Family]) -> dict[str, Any]:
    """The client-facing routes, as served at /api-endpoints.json."""
    endpoints: list[dict[str, Any]] = [
        {"method": "GET", "path": "/health", "family": "health", "auth": [], "mode": "sync", "summary": "Liveness"},
        {"method": "GET", "path": "/api-endpoints.json", "family": "index", "auth": [], "mode": "sync", "summary": "This index"},
    ]
    for family in families:
        endpoints += _entries(family, FAMILY_AUTH.get(family.name, FAMILY_AUTH["openai"]))
    return {"version": __version__, "endpoints": endpoints}


def admin_index(admin: Family) -> dict[str, Any]:
    """The operator's routes: the admin API, metrics and the dashboard."""
    endpoints: list[dict[str, Any]] = [
        {
            "method": "GET",
            "path": "/dashboard",
            "family": "dashboard",
            "auth": [],
            "mode": "sync",
            "summary": "The dashboard (log in with the admin key)",
        },
        {
            "method": "GET",
            "path": "/metrics",
            "family": "metrics",
            "auth": ["Authorization: Bearer <admin_key or metrics_token>"],
            "mode": "sync",
            "summary": "Prometheus metrics",
        },
    ]
    return {"version": __version__, "endpoints": endpoints + _entries(admin, ADMIN_AUTH)}
