"""Turn results into output: rich tables for people, a versioned JSON envelope for machines.

Nothing but the result goes to stdout; logs and notices go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from recruit_cli.results import PassResult

if TYPE_CHECKING:
    from recruit_cli.doctor import DoctorReport
    from recruit_cli.ops.status import StatusReport

# Rows of the manual-review queue printed as text; --json always holds the whole queue.
QUEUE_ROWS = 20


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


def render_status(env: Environment, report: StatusReport) -> None:
    """Rich tables for people (no colour off a TTY); the JSON document with ``--json``."""
    if env.json:
        print_json(env, report.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    console = env.console()
    counts = Table(title=f"Records: {report.total}", title_justify="left")
    counts.add_column("status")
    counts.add_column("records", justify="right")
    for status, n in report.by_status:
        counts.add_row(escape(status), str(n))  # staff may type odd statuses
    console.print(counts)

    groups = Table(title="Groups", title_justify="left")
    for col in ("group", "label", "records", "IDs used", "next ID", "remaining"):
        groups.add_column(col, justify="right" if col not in ("group", "label") else "left")
    for g in report.groups:
        nxt = str(g.next_id) if g.next_id is not None else "EXHAUSTED"
        groups.add_row(
            escape(g.name), escape(g.label), str(g.records), str(g.ids_used), nxt, str(g.remaining)
        )
    console.print(groups)

    for title, queue, safety in (
        ("Safety review queue", report.safety_queue, True),
        ("Manual review queue", report.review_queue, False),
    ):
        if not queue:
            console.print(f"{title}: empty")
            continue
        # Every safety case waits for a person, so all are shown; a long manual-review queue
        # is cut to its oldest rows, with the reasons of the whole queue counted below it.
        shown = queue if safety else queue[:QUEUE_ROWS]
        table = Table(title=f"{title}: {len(queue)}", title_justify="left")
        table.add_column("record", justify="right")
        table.add_column("reasons", overflow="fold")
        table.add_column("age (days)", justify="right")
        if safety:
            table.add_column("alerted")
            table.add_column("acknowledged")
        for e in shown:
            cells = [
                escape(e.record_id),
                escape(", ".join(e.codes)),
                "" if e.age_days is None else str(e.age_days),
            ]
            if safety:
                cells += ["yes" if e.alerted else "NO", "yes" if e.acknowledged else "no"]
            table.add_row(*cells)
        console.print(table)
        if len(shown) < len(queue):
            console.print(
                f"… and {len(queue) - len(shown)} more (all of them: recruit status --json)",
                markup=False,
            )
            codes = Counter(code for e in queue for code in e.codes)
            by_reason = ", ".join(f"{code} {n}" for code, n in codes.most_common())
            console.print(f"reasons in the whole queue: {by_reason}", markup=False)
