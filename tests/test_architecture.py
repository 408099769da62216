"""The package's layout rules, read from the source: what may import what.

Only the CLI draws output (rich) and parses arguments (typer); no two packages import each
other, however long the loop (imports under TYPE_CHECKING count: a type-only loop still
ties two packages together).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "recruit_cli"
CLI = PACKAGE / "cli"


def imported_modules(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, wherever the import statement is (a function, too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def outside_cli_importing(top: str) -> list[str]:
    return sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if not path.is_relative_to(CLI)
        and any(m == top or m.startswith(f"{top}.") for m in imported_modules(path))
    )


def test_only_the_cli_draws_output() -> None:
    # The library returns typed results; every table is drawn in recruit_cli/cli.
    assert outside_cli_importing("rich") == []


def test_only_the_cli_imports_typer() -> None:
    assert outside_cli_importing("typer") == []


def unit_of(module: str) -> str:
    """The package (or top-level module) of ``recruit_cli``: ``recruit_cli.mail.compose``
    -> ``mail``; ``recruit_cli.settings`` -> ``settings``."""
    return module.split(".")[1]


def package_imports() -> dict[str, set[str]]:
    """unit -> the other units it imports (type-checking-only imports count too)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        unit = unit_of(".".join(relative.parts)) if len(relative.parts) > 1 else ""
        for module in imported_modules(path):
            if module.startswith("recruit_cli.") and unit_of(module) != unit:
                graph.setdefault(unit, set()).add(unit_of(module))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of units that import each other, directly or around a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_packages() -> None:
    assert cycles(package_imports()) == []
