"""Every command a newcomer can find has help, and the README's command table lists them all.

The app is walked as typer builds it (every command, group and sub-command), so a command
added without a docstring, an option without help, a --help that does not print, or a
command left out of the table under "What recruit does" fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from recruit_cli.cli.main import app, run

README = Path(__file__).resolve().parents[1] / "README.md"


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(typer.main.get_command(app)))
GROUPS = {path[0]: cmd for path, cmd in COMMANDS.items() if len(path) == 1}


def _readme_table() -> dict[str, set[str]]:
    """Top-level names in the README's command table -> the sub-commands each row names."""
    section = README.read_text(encoding="utf-8").split("## What recruit does", 1)[1]
    section = section.split("\n## ", 1)[0]
    listed: dict[str, set[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.strip("|").split(" | ", 1)[0]
        for chunk in re.findall(r"`([^`]+)`", first_cell):
            words = chunk.split()
            words = words[1:] if words[0] == "recruit" else words
            subs = listed.setdefault(words[0], set())
            if len(words) > 1 and words[1][0] not in "[-<":
                subs.update(words[1].replace("\\|", "|").split("|"))
    return listed


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=" ".join)
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    assert (command.help or "").strip(), f"recruit {' '.join(path)}: no help text"
    unhelped = [p.name for p in command.params if not (getattr(p, "help", None) or "").strip()]
    assert not unhelped, f"recruit {' '.join(path)}: no help for {unhelped}"
    assert run([*path, "--help"]) == 0


def test_the_root_and_its_global_options_have_help() -> None:
    root = COMMANDS[()]
    assert (root.help or "").strip()
    assert all((getattr(p, "help", None) or "").strip() for p in root.params)


def test_the_readme_command_table_lists_every_command_and_sub_command() -> None:
    listed = _readme_table()
    assert sorted(listed) == sorted(GROUPS), "README's table and the app's commands differ"
    for name, command in GROUPS.items():
        subs = set(getattr(command, "commands", {}))
        assert listed[name] == subs, f"recruit {name}: README lists {listed[name]}, app {subs}"


@pytest.mark.parametrize(
    "path", [p for p, cmd in COMMANDS.items() if getattr(cmd, "commands", None)], ids=str
)
def test_command_lists_fit_80_columns_without_being_cut(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14: click cuts a description that does not fit, mid-sentence, with "...".
    monkeypatch.setenv("COLUMNS", "80")
    assert run([*path, "--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    lines = [line for line in listing.splitlines() if line.strip()]
    assert len(lines) == len(COMMANDS[path].commands)
    assert not [line for line in lines if line.rstrip().endswith("...")]
    assert all(len(line) <= 80 for line in lines)
