"""Turn results into output: rich tables for people, a versioned JSON envelope for machines.

The library returns typed results and never prints; every table recruit draws is drawn
here, and only ``recruit_cli.cli`` imports rich (a test checks). Nothing but the result
goes to stdout; notices go to stderr.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from recruit_cli.cli.environment import Environment, print_json
from recruit_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from recruit_cli.doctor import DoctorReport
    from recruit_cli.ops.demo import DemoResult
    from recruit_cli.ops.status import StatusReport
    from recruit_cli.outreach.command import Preview
    from recruit_cli.results import PassResult

__all__ = [
    "Environment",
    "demo_summary_lines",
    "print_json",
    "render_demo",
    "render_doctor",
    "render_failure",
    "render_mail",
    "render_pass",
    "render_report",
    "render_sign_in",
    "render_sign_out",
    "render_status",
]

# Rows of the manual-review queue printed as text; --json always holds the whole queue.
QUEUE_ROWS = 20


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
        env.notice(notice)
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


def render_failure(env: Environment, command: str, code: ExitCode, kind: str, message: str) -> None:
    """With --json, a command that failed before it had a result still prints an envelope:
    the result's own shape, ``ok: false`` (unless exit 0, a held lock), and ``error``."""
    from recruit_cli.results import PassResult

    envelope = PassResult(command, exit_code=code).to_dict()
    envelope["error"] = {"type": kind, "message": message}
    print_json(env, envelope)


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

    # "Study IDs issued" means what it means in the report (model.DEFINITIONS["ids_issued"]):
    # records holding one, whatever their status now. Not enrollment (consent).
    groups = Table(title="Groups", title_justify="left")
    for col in ("group", "label", "study IDs issued", "target", "next ID", "IDs left"):
        groups.add_column(col, justify="right" if col not in ("group", "label") else "left")
    for g in report.groups:
        nxt = str(g.next_id) if g.next_id is not None else "EXHAUSTED"
        target = "" if g.target is None else str(g.target)
        groups.add_row(
            escape(g.name), escape(g.label), str(g.ids_used), target, nxt, str(g.remaining)
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
        holds = report.review_holds
        if not safety and (holds.duplicates or holds.flagged):
            per_flag = ", ".join(f"{code} {n}" for code, n in holds.by_flag if n)
            console.print(
                f"held as duplicates: {holds.duplicates}; flagged: {holds.flagged}"
                + (f" ({per_flag})" if per_flag else ""),
                markup=False,
            )


def render_mail(env: Environment, outcome: PassResult | Preview) -> None:
    """`recruit invite` / `recruit notify`: the pass's result, or a record's message."""
    from recruit_cli.outreach.command import Preview

    if isinstance(outcome, Preview):
        render_preview(env, outcome)
    else:
        render_pass(env, outcome)


def render_preview(env: Environment, preview: Preview) -> None:
    """``--preview``: key, recipients (masked unless the test recipient), subject and text."""
    from recruit_cli.address import mask

    to = ", ".join(
        f"{a} (test recipient)" if a == preview.test_recipient else mask(a) for a in preview.to
    )
    if env.json:
        print_json(env, preview.to_dict(shown_to=to))
        return
    out = env.stdout
    out.write(f"Key: {preview.key}\nTo: {to}\nSubject: {preview.subject}\n\n{preview.text}")
    if not preview.text.endswith("\n"):
        out.write("\n")
    out.flush()


def render_report(env: Environment, result: PassResult) -> None:
    """`recruit report`: the path it wrote (always: it is the command's result, and a
    person running it must learn where the file went); notices on stderr; the JSON
    envelope with --json. The crontab entry sends stdout to /dev/null."""
    from recruit_cli.report.run import ReportDetails

    if env.json:
        render_pass(env, result)
        return
    for notice in result.notices:
        env.notice(notice)
    prefix = "[dry run] would write " if result.dry_run else ""
    env.stdout.write(f"{prefix}{result.detail(ReportDetails).path}\n")
    env.stdout.flush()


def render_sign_in(env: Environment, result: PassResult) -> None:
    """`recruit auth login | status | test`: who is signed in, the cache, the expiry."""
    from recruit_cli.msgraph.auth import SignInStatus
    from recruit_cli.msgraph.outcomes import TokenCheck

    if env.json:
        render_pass(env, result)
        return
    status = result.detail(SignInStatus)
    who = f" as {status.username}" if status.username else ""
    lines = [
        f"mode: {status.mode}",
        f"signed in: {'yes' + who if status.signed_in else 'no (run `recruit auth login`)'}",
        f"authority: {status.authority}",
        f"token cache: {status.cache_path}",
    ]
    if status.expires_at is not None:
        lines.append(f"access token expires: {status.expires_at.isoformat(timespec='seconds')}")
    check = result.find(TokenCheck)
    if check is not None:
        lines += [f"{k}: {v}" for k, v in check.to_dict().items()]
    env.stdout.write("\n".join(lines) + "\n")


def render_sign_out(env: Environment, result: PassResult) -> None:
    """`recruit auth logout`: how many accounts left the token cache."""
    from recruit_cli.msgraph.outcomes import SignOut

    if env.json:
        render_pass(env, result)
        return
    out = result.detail(SignOut)
    env.stdout.write(
        f"signed out: {out.accounts_removed} account(s) removed from {out.cache_path}\n"
    )


def render_demo(env: Environment, result: DemoResult) -> None:
    """`recruit status` as the demo left it, then what the run did and where to look."""
    render_status(env, result.status)
    for line in demo_summary_lines(result):
        env.stdout.write(line + "\n")
    env.stdout.flush()


def demo_summary_lines(result: DemoResult, *, argv0: str | None = None) -> list[str]:
    """What the demo tells a newcomer at the end: what the run did and where to look next.

    Args:
        result: The demo's result.
        argv0: How recruit was started (default ``sys.argv[0]``), to show commands the
            reader can paste: after ``make demo``, recruit is ``.venv/bin/recruit``, not on
            the PATH.
    """
    from recruit_cli.ops.run import RunDetails

    here = Path.cwd()

    def show(path: Path) -> str:
        try:
            return str(path.relative_to(here))
        except ValueError:
            return str(path)

    recruit = _recruit_command(argv0 if argv0 is not None else sys.argv[0], show)
    lines = [
        "",
        f"What `recruit run` did, step by step, in {result.cycles} cron cycles (every 5 "
        "minutes, on a simulated clock, as the submissions arrived over 12 weeks):",
    ]
    for step in result.run.detail(RunDetails).steps:
        counts = step.result.counts if step.result is not None else {}
        done = ", ".join(f"{n} {action}" for action, n in counts.items())
        lines.append(f"  {step.step:<7} {done or step.error or 'nothing to do'}")
    return [
        *lines,
        "",
        f"Demo finished in {show(result.directory)}/",
        f"  e-mails (.eml, open in any mail client): {show(result.outbox)}/ ({result.emails})",
        f"  weekly report (HTML):                    {show(result.report_path)}",
        f"  the configuration it used:               {show(result.directory / 'recruit.toml')}",
        "To explore the same data, serve it again (the database keeps its token) and point",
        "recruit at it with the demo's configuration, from another terminal:",
        f"  {recruit} sandbox serve --db {show(result.directory / 'sandbox.db')} "
        f"--port {result.port}",
        f"  {recruit} -c {show(result.directory / 'recruit.toml')} status",
    ]


def _recruit_command(argv0: str, show: Callable[[Path], str]) -> str:
    """``recruit`` when that name on the PATH is the program running, else its path."""
    program = Path(argv0)
    if program.name != "recruit":  # python -m, or a test runner
        return "recruit"
    found = shutil.which("recruit")
    if found and Path(found).resolve() == program.resolve():
        return "recruit"
    return show(program)
