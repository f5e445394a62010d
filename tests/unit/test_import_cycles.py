"""No import cycles in the package: every module can be imported alone, first, in any order.

Read from the source (module-level imports only, `if TYPE_CHECKING:` blocks left out): importing
`a.b.c` runs `a`, `a.b` and `a.b.c`, so it is an edge to each of them but the packages the importer
sits in itself, which are already running when it is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import anygate

ROOT = Path(anygate.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue  # run by alembic from files, never imported as modules
        parts = ["anygate", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.Try) or (isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test)):
            yield from (n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))


def _runs(importer: str, imported: str, modules: dict[str, Path]) -> set[str]:
    """The modules importing `imported` from `importer` runs: it and its packages, but the importer's own."""
    parts = imported.split(".")
    chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return {m for m in chain - own if m in modules and m != importer}


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the modules of the package its import runs."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in _top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            for target in targets:
                if target.startswith("anygate"):
                    edges |= _runs(name, target, modules)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle_through_a_package() -> None:
    graph = {
        "anygate.p.codec": set(),
        "anygate.p": {"anygate.p.handler"},
        "anygate.p.handler": {"anygate.q.adapter"},
        "anygate.q.adapter": {"anygate.p", "anygate.p.codec"},
    }
    assert cycles(graph) == [["anygate.p", "anygate.p.handler", "anygate.q.adapter"]]


def test_the_graph_knows_the_edges_that_made_the_old_cycle() -> None:
    graph = import_graph()
    assert {"anygate.protocols.anthropic", "anygate.protocols.anthropic.codec"} <= graph["anygate.providers.anthropic.adapter"]
    assert "anygate.protocols.anthropic" not in graph["anygate.protocols.anthropic.messages"], (
        "a package's own modules do not run it again"
    )


def test_a_provider_packages_init_imports_nothing() -> None:
    """So that reading a type's settings.py (when the configuration is checked) runs none of its code."""
    packages = [p for p in (ROOT / "providers").iterdir() if (p / "__init__.py").exists()]
    assert len(packages) >= 18
    for package in packages:
        body = ast.parse((package / "__init__.py").read_text()).body
        assert [type(node) for node in body] == [ast.Expr], f"{package.name}/__init__.py holds more than its docstring"
        assert (package / "plugin.py").exists(), f"{package.name} has no plugin.py to register it"
