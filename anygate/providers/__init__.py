"""Upstream providers: one folder per type, its `plugin.py` exposing `ADAPTER` (its `__init__` imports
nothing, so a type's `settings.py` can be read without its code); discovered, never switched on."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from anygate.providers.base import ProviderAdapter


@cache
def adapters() -> dict[str, ProviderAdapter]:
    """Every provider adapter shipped in this package, by provider type."""
    found: dict[str, ProviderAdapter] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}.plugin")
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, ProviderAdapter):
            found[adapter.type] = adapter
    return found


@cache
def declared_kinds(attribute: str) -> tuple[str, ...]:
    """The task kinds the task provider types declare under `attribute` (`image_kinds`, `video_kinds`:
    the kinds that answer OpenAI's images or videos API), in registry order."""
    kinds: list[str] = []
    for adapter in adapters().values():
        kinds += sorted(getattr(adapter.build_tasks, attribute, frozenset()))
    return tuple(kinds)
