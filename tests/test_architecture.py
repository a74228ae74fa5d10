"""The shape of the package: every module imports on its own, the import graph has no cycle, and the layers
depend in one direction (interfaces → services → domain), as DESIGN.md section 7 draws them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "retain"
INTERFACES = ("cli", "report", "api", "web")
DOMAIN = (
    *("analytics", "automation", "contract", "engine", "facts", "health"),
    *("ingest", "lake", "marts", "models", "state", "synth"),
)
"""Packages below the services: they never import services or an interface."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if "migrations" in parts:  # Alembic scripts run inside Alembic, not as imports
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the retain modules it imports (at the top or inside functions; a name imported from a package is
    the submodule when one exists, else the package)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                candidates = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            else:
                continue
            for target in candidates:
                while target and target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name and target.startswith("retain"):
                    targets.add(target)
        graph[name] = targets
    return graph


GRAPH = _imports(_modules())


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(name for name in GRAPH if name != "retain.__main__")
    script = (
        "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint(len(sys.argv) - 1)"
    )
    done = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.strip()) == len(names) > 100


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_module_import_graph_has_no_cycle():
    assert _cycle(GRAPH) is None, " -> ".join(_cycle(GRAPH) or [])


def test_the_package_import_graph_has_no_cycle():
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        packages.setdefault(_layer(module), set()).update(_layer(t) for t in targets if _layer(t) != _layer(module))
    packages.pop("", None)
    for targets in packages.values():
        targets.discard("")
    assert _cycle(packages) is None, " -> ".join(_cycle(packages) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("interface", INTERFACES)
def test_interfaces_reach_marts_models_and_state_only_through_services(interface):
    offending = {
        module: sorted(t for t in targets if _layer(t) in ("marts", "models", "state"))
        for module, targets in GRAPH.items()
        if _layer(module) == interface
    }
    assert {m: t for m, t in offending.items() if t} == {}


def test_domain_packages_import_no_service_and_no_interface():
    offending = {
        module: sorted(t for t in targets if _layer(t) in ("services", "bench", *INTERFACES))
        for module, targets in GRAPH.items()
        if _layer(module) in DOMAIN
    }
    assert {m: t for m, t in offending.items() if t} == {}


def test_services_are_typed_on_workspace_never_any():
    """Every public service function takes ``ws: Workspace`` (DESIGN.md §7), not ``Any``."""
    untyped = []
    for path in (PACKAGE / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                for arg in node.args.args + node.args.kwonlyargs:
                    if arg.arg == "ws" and (arg.annotation is None or ast.unparse(arg.annotation) != "Workspace"):
                        untyped.append(f"{path.name}:{node.name}")
                    if arg.annotation is not None and ast.unparse(arg.annotation) == "Any" and arg.arg == "ws":
                        untyped.append(f"{path.name}:{node.name}")
    assert untyped == []
