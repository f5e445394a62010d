"""Client-facing API families: one package per family, each exposing `FAMILY` with its routes and error shape."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from anygate.server.family import Family
from anygate.tasks.contract import TaskFamily


@cache
def families() -> list[Family]:
    """Every client family shipped in this package."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if isinstance(family, Family):
            found.append(family)
    return found


@cache
def task_families() -> dict[str, TaskFamily]:
    """The task families (a package's `TASK_FAMILY`), by name, for the webhooks of their tasks."""
    found: dict[str, TaskFamily] = {}
    for info in pkgutil.iter_modules(__path__):
        family = getattr(importlib.import_module(f"{__name__}.{info.name}"), "TASK_FAMILY", None)
        if family is not None:
            found[family.name] = family
    return found
