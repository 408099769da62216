"""The exit-code contract has one source, ``recruit_cli.exit_codes``; its copies follow it.

The README's table and severity order and crontab.example's summary are what cron wrappers
and health checks are written from: each is parsed here and compared with the enum, so a
code added, renumbered or reworded in one place fails until all agree (``recruit --help``
prints the table itself: tests/test_cli_skeleton.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from recruit_cli.exit_codes import EXIT_CODE_TABLE, SEVERITY, ExitCode, worst

ROOT = Path(__file__).resolve().parents[1]
TABLE = [(int(code), meaning) for code, meaning in EXIT_CODE_TABLE]
ORDER = [int(code) for code in SEVERITY]


def _severity(text: str) -> list[int]:
    """The codes of the "by severity 1 > 2 > …" sentence in ``text``."""
    found = re.search(r"by severity ((?:\d+\s*>\s*)+\d+)", text)
    assert found, "no 'by severity N > N > …' sentence"
    return [int(n) for n in found.group(1).split(">")]


def test_the_table_covers_every_code_once_and_severity_ranks_them_all() -> None:
    codes = [code for code, _ in TABLE]
    assert sorted(codes) == sorted(int(c) for c in ExitCode)
    assert sorted(ORDER) == sorted(codes)
    # Meanings are quoted in prose lists separated by ";" and ending with ".".
    assert all(meaning and not set(meaning) & {";", ".", "|"} for _, meaning in TABLE)


def test_worst_follows_severity() -> None:
    assert worst([]) == ExitCode.OK
    for i, code in enumerate(SEVERITY):
        assert worst([*SEVERITY[i:], *reversed(SEVERITY[i:])]) == code
    # The cases cron sees: a bug beats anything, a refusal beats an outage.
    assert worst([ExitCode.PARTIAL, ExitCode.UNEXPECTED, ExitCode.CONFIG]) == ExitCode.UNEXPECTED
    assert worst([ExitCode.UNAVAILABLE, ExitCode.REFUSED]) == ExitCode.REFUSED
    assert worst([ExitCode.REFUSED, ExitCode.CONFIG]) == ExitCode.CONFIG


def test_the_readme_table_is_the_enum() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if not line.strip() and rows:
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            rows.append((int(cells[0]), cells[1].replace("`", "")))
    assert rows == TABLE


def test_the_readme_severity_order_is_worsts() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("What `recruit run` does when something fails", 1)[1]
    assert _severity(" ".join(section.split())) == ORDER


def test_crontab_example_lists_every_code_with_its_meaning() -> None:
    lines = (ROOT / "crontab.example").read_text(encoding="utf-8").splitlines()
    comments = " ".join(line.lstrip("#").strip() for line in lines if line.startswith("#"))
    listed = comments.split("Exit codes: ", 1)[1].split(".", 1)[0]
    items = [re.fullmatch(r"(\d+) (.+)", item.strip()) for item in listed.split(";")]
    assert all(items), listed
    assert [(int(m.group(1)), m.group(2)) for m in items if m] == TABLE
    assert _severity(comments) == ORDER
