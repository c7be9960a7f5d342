"""The layout keeps the promises the README's module map makes: layers import downwards only,
no module grows past one sitting's reading, only the CLI sees argparse, and the map names
every module there is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "livestyle"
MAX_LINES = 500


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported(path: Path, known: set[str]) -> set[str]:
    """The package's modules that `path` imports anywhere in it (a lazy import inside a
    function still ties the two modules together)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    # A package's __init__ is imported on the way to any of its modules: not an edge.
    return {name: imported(path, known) - {name} for name, path in found.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_the_package() -> None:
    graph = import_graph()
    packages = {name for name, path in modules().items() if path.name == "__init__.py"}
    for name in graph:  # importing a package's own __init__ from inside it is no circle
        graph[name] -= {p for p in packages if name.startswith(p + ".")}
    assert find_cycle(graph) is None


# The package's layers, lowest first: a module imports from its own layer or below, never
# above (the README's module map describes each). The package root (`livestyle`, its
# __version__) is below everything.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "livestyle core",
        "grain model memory bounds sizing config video brushwork ink dots",
        "weights discovery",
        "engines",
        "stylizer choices steady stability",
        "train addstyle presets",
        "live",
        "ui bench",
        "commands cli __main__",
    )
)


def layer_of(module: str) -> int:
    part = module.split(".")[1] if "." in module else module
    return next(rank for rank, names in enumerate(LAYERS) if part in names)


def test_every_module_has_a_layer_and_imports_only_its_own_or_lower_ones() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert upward == []


def test_no_module_is_longer_than_one_sitting() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_command_line_layer_imports_argparse() -> None:
    allowed = {"livestyle.cli"}
    users = {
        name
        for name, path in modules().items()
        if re.search(r"^\s*(import argparse|from argparse )", path.read_text(), re.MULTILINE)
    }
    assert {
        u for u in users if u not in allowed and not u.startswith("livestyle.commands")
    } == set()


@pytest.mark.parametrize("name", sorted(modules()))
def test_the_readme_module_map_names_every_module(name: str) -> None:
    path = modules()[name]
    if path.name == "__init__.py" or path.name == "__main__.py":
        pytest.skip("package markers are not modules of their own")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    folder = path.parent.relative_to(ROOT).as_posix()
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    row = next((line for line in rows if f"`{folder}/`" in line.split(" | ")[0]), "")
    top_level = path.parent == PACKAGE
    assert f"`{path.name}`" in row or (top_level and f"{path.name}`" in section), (
        f"{path.relative_to(ROOT)} is missing from the README's module map"
    )
