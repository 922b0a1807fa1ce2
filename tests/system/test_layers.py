"""The package's layers, made executable: who may import whom, no import cycle, no huge module.

``docs/design.md`` ("Layout") draws the same table. Every ``import`` in the
package is read with :mod:`ast` (function-level imports too), so an import that
runs the wrong way or closes a circle fails here, whatever the place it hides in.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from fpanalysis.core import config

PACKAGE = Path(config.PACKAGE_DIR)

#: layer -> the layers it may import (its own included). The design table.
MAY_IMPORT: dict[str, set[str]] = {
    "core": {"core"},
    "rules": {"core", "rules"},
    "io": {"core", "rules", "io"},
    "engines": {"core", "rules", "io", "engines"},
    "register": {"core", "rules", "io", "register"},
    "synth": {"core", "io", "synth"},
    "charts": {"core", "rules", "charts"},
    "widgets": {"core", "rules", "io", "charts", "widgets"},
    "report": {"core", "rules", "io", "register", "charts", "widgets", "report"},
    "cli": {
        "core",
        "rules",
        "io",
        "engines",
        "register",
        "synth",
        "charts",
        "widgets",
        "report",
        "cli",
    },
}
#: modules at the package's top: ``__init__`` holds the version only, ``__main__`` runs the CLI
TOP = {"fpanalysis": "core", "fpanalysis.__main__": "cli"}

MAX_LINES = 1000


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The package module an imported dotted name lands in (a module, or the module defining it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported package module, line) for every import statement of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "fpanalysis":
                    out.append((_resolve(a.name), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".") if is_package else module.split(".")[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            if base.split(".")[0] != "fpanalysis":
                continue
            for a in node.names:
                # ``from fpanalysis.rules import relief`` imports the submodule
                target = _resolve(f"{base}.{a.name}") or _resolve(base)
                out.append((target, node.lineno))
    return [(t, line) for t, line in out if t is not None and t != module]


def layer_of(module: str) -> str:
    if module in TOP:
        return TOP[module]
    return module.split(".")[1]


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_belongs_to_a_layer():
    assert {layer_of(m) for m in MODULES} <= set(MAY_IMPORT)


def wrong_imports(layer: str, graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Every import of a module of ``layer`` that lands in a layer it may not import."""
    return [
        f"{m.replace('.', '/')}:{line} imports {t} ({layer_of(t)})"
        for m, edges in graph.items()
        if layer_of(m) == layer
        for t, line in edges
        if layer_of(t) not in MAY_IMPORT[layer]
    ]


@pytest.mark.parametrize(
    "layer", [pytest.param(layer, id=f"layer-{layer}") for layer in sorted(MAY_IMPORT)]
)
def test_a_layer_imports_only_the_layers_below_it(layer):
    wrong = wrong_imports(layer, GRAPH)
    assert not wrong, "\n".join(wrong)


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    succ = defaultdict(set)
    for m, edges in graph.items():
        succ[m].update(t for t, _ in edges)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycle_function_level_imports_included():
    found = cycles(GRAPH)
    assert not found, "\n".join(" <-> ".join(c) for c in found)


def test_no_module_over_1000_lines():
    big = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in MODULES.values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not big, big


def test_the_checker_sees_a_wrong_import_and_a_cycle():
    """The test itself can fail: a rule importing io, and two modules importing each other."""
    fake = {
        "fpanalysis.rules.x": [("fpanalysis.io.y", 3)],
        "fpanalysis.io.y": [("fpanalysis.rules.x", 7)],
        "fpanalysis.core.z": [],
    }
    assert wrong_imports("rules", fake) == ["fpanalysis/rules/x:3 imports fpanalysis.io.y (io)"]
    assert wrong_imports("io", fake) == []
    assert cycles(fake) == [["fpanalysis.io.y", "fpanalysis.rules.x"]]
