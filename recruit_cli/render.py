"""Turn results into output: rich tables for people, a versioned JSON envelope for machines.

Nothing but the result goes to stdout; logs and notices go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from recruit_cli.results import PassResult

if TYPE_CHECKING:
    from recruit_cli.doctor import DoctorReport


@dataclass
class Environment:
    """Where output goes and how it looks. Tests swap it for one writing to buffers."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    json: bool = False
    verbose: int = 0

    @property
    def interactive(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    @property
    def color(self) -> bool:
        # No colour, spinners or cursor tricks under cron, in pipes, or with NO_COLOR set.
        if os.environ.get("NO_COLOR", "") != "":
            return False
        return self.interactive

    def console(self, *, stderr: bool = False) -> Any:
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        return Console(
            file=stream,
            no_color=not self.color,
            color_system="auto" if self.color else None,
            force_terminal=self.color,
            force_interactive=False,
            highlight=False,
            soft_wrap=not self.color,
            width=None if self.color else 120,
        )


def print_json(env: Environment, payload: dict[str, Any]) -> None:
    env.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
    env.stdout.flush()


def render_pass(env: Environment, result: PassResult) -> None:
    """Print a pass result: JSON envelope with --json, else a short summary.

    Quiet on success under cron: a pass that did nothing prints nothing unless -v.
    """
    if env.json:
        print_json(env, result.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    # Reasons read like "[age] is blank": without escaping, rich would take "[age]" for
    # markup and silently drop it.
    console = env.console()
    for notice in result.notices:
        env.console(stderr=True).print(notice, markup=False)
    if not result.actions:
        if env.verbose:
            console.print(f"{result.command}: nothing to do")
        return
    prefix = "[dry run] " if result.dry_run else ""
    summary = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    if not env.verbose and not result.dry_run and not result.failed:
        # Under cron (stdout not a terminal) a successful pass prints nothing, so cron's
        # MAILTO only hears about problems; at a terminal, one summary line.
        if env.interactive:
            console.print(f"{prefix}{result.command}: {summary}", markup=False)
        return
    table = Table(title=escape(f"{prefix}{result.command}: {summary}"), title_justify="left")
    table.add_column("record", justify="right")
    table.add_column("action")
    table.add_column("detail", overflow="fold")
    for a in result.actions:
        style = None if a.ok else "red"
        table.add_row(escape(a.record_id), escape(a.action), escape(a.detail), style=style)
    console.print(table)


def render_doctor(env: Environment, report: DoctorReport) -> None:
    """Doctor's checklist: a table, one row per check; the JSON document with ``--json``."""
    if env.json:
        print_json(env, report.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="recruit doctor", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    styles = {"ok": "green", "warn": "yellow", "fail": "red"}
    for c in report.checks:
        # escape: details quote logic such as "[age]", which rich would read as markup
        table.add_row(c.name, c.state.upper(), escape(c.detail), style=styles[c.state])
    env.console().print(table)
