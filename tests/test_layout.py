"""The package's layers: every module imports, imports flow down only, and no import circle exists.

Layers, top to bottom (docs/layout.md): the CLI and the package's re-exports; `papers`; `reporting`;
`training`; `tasks`; `analysis`; `_io` and `provenance`. A module may import its own layer or a lower
one, never a higher one, and the graph of imports that run (module level and inside functions; not
those under `if TYPE_CHECKING:`) has no cycle.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import mtlcore

ROOT = Path(mtlcore.__file__).parent
LAYERS = {"": 6, "__main__": 6, "advisor": 5, "papers": 5, "reporting": 4, "training": 3, "tasks": 2, "analysis": 1,
          "_io": 0, "_lazy": 0, "machine": 0, "progress": 0, "provenance": 0}


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        parts = f.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


MODULES = _modules()


def layer(module: str) -> int:
    top = module.split(".")[0]
    if top not in LAYERS:
        raise AssertionError(f"mtlcore.{module}: its folder {top!r} is in no layer of tests/test_layout.py")
    return LAYERS[top]


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    return skip


def imports_of(module: str) -> set[str]:
    """The mtlcore modules `module` imports (by name; a package's __init__ only where named itself)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                target = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            elif node.module and (node.module == "mtlcore" or node.module.startswith("mtlcore.")):
                target = node.module.partition(".")[2]
            else:
                continue
            subs = {f"{target}.{a.name}".lstrip(".") for a in node.names} & MODULES.keys()
            found |= subs if len(subs) == len(node.names) else {target, *subs}
        elif isinstance(node, ast.Import):
            found |= {a.name.partition(".")[2] for a in node.names if a.name.startswith("mtlcore.")}
    return found & MODULES.keys()


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(mtlcore.__path__, "mtlcore.")]
    assert len(names) == len(MODULES) - 1  # every file is a module (the root package is not listed)
    for name in names:
        importlib.import_module(name)


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer(module)


def test_no_upward_import():
    upward = [f"mtlcore.{m} (layer {layer(m)}) imports mtlcore.{t} (layer {layer(t)})"
              for m in MODULES for t in imports_of(m) if layer(t) > layer(m)]
    assert not upward, "\n".join(upward)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` ({module: modules it imports}) as [m1, m2, ..., m1], or None."""
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state and (cycle := visit(t, path + [t])):
                return cycle
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m, [m])):
            return cycle
    return None


def test_no_import_circle():
    cycle = find_cycle({m: imports_of(m) - {m} for m in MODULES})
    assert cycle is None, "import circle: " + " -> ".join(f"mtlcore.{c}" for c in cycle)


def test_the_checks_are_not_vacuous(tmp_path, monkeypatch):
    """A training module importing the reporting layer is caught, and so is a circle of three."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    bad = tmp_path / "bad.py"
    bad.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..papers import paper_a\n"
                   "def f():\n    from ..reporting.cache import cached_train\n")
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {**MODULES, "training.bad": bad})
    assert imports_of("training.bad") == {"reporting.cache"}  # the TYPE_CHECKING import does not run
    assert layer("reporting.cache") > layer("training.bad")
