"""The package's arrows point one way (docs/design.md section 9), checked on the import graph: every
``import`` / ``from ... import`` of every module under src/tsilstm, found by parsing it (function-
level imports included), must go to a layer below (or to an allowed neighbour in the same layer),
and no two modules may import each other, directly or round a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tsilstm"
LAYERS: dict[str, int] = {
    **dict.fromkeys(("errors", "version", "toml_reader", "hardware"), 0),
    **dict.fromkeys(("validation", "units", "optional_packages"), 1),
    **dict.fromkeys(("activations", "cell_spec"), 2),
    **dict.fromkeys(("model", "cells", "fixtures"), 3),
    **dict.fromkeys(("plan", "importers"), 4),
    **dict.fromkeys(("accel", "runtime", "bench", "verification"), 5),
    **dict.fromkeys(("rtl", "integrations"), 6),
    **dict.fromkeys(("cli", "report"), 7),
    **dict.fromkeys(("(package)", "nn", "onnx"), 8),
}
"""The layer of each top-level part of the package (a module or a folder): imports go downwards."""
SIDEWAYS = {("cell_spec", "activations"),
            ("cells", "model"), ("bench", "accel"), ("bench", "runtime"), ("verification", "runtime"), ("cli", "report")}
"""Imports allowed within one layer (importer, imported)."""
ONLY_FROM_CLI = {"rtl"}
"""Parts no one but the CLI imports."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SRC.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The tsilstm modules (and packages) ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules or {base})
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


def test_every_part_has_a_layer() -> None:
    assert {_part(name) for name in MODULES} <= LAYERS.keys()


def test_imports_point_down() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        for target in targets:
            here, there = _part(name), _part(target)
            if here == there:
                continue
            if there in ONLY_FROM_CLI and here != "cli":
                wrong.append(f"{name} -> {target} (only the CLI imports {there})")
            elif LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here] and (here, there) not in SIDEWAYS):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    loops.append(sorted(component))
    return loops


def test_no_import_cycles() -> None:
    """A package's ``__init__`` re-exporting its modules, which import their siblings through the
    package, is not a loop; every other one is."""
    graph = {name: {target for target in targets if not name.startswith(target + ".")} for name, targets in GRAPH.items()}
    assert _loops(graph) == []


@pytest.mark.parametrize("graph, loops", [({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
                                          ({"a": {"b"}, "b": {"c"}, "c": set()}, [])])
def test_the_loop_finder_finds_loops(graph, loops) -> None:  # type: ignore[no-untyped-def]
    assert _loops(graph) == loops


MAX_MODULE_LINES = 450
"""Longest Python module in src: beyond it a module has more than one job (split it by job)."""


def test_no_module_is_over_the_line_limit() -> None:
    long = {str(path.relative_to(SRC)): lines for path in sorted(SRC.rglob("*.py"))
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
