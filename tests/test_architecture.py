"""The package's layout rules, read from the source: what may import what."""

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
