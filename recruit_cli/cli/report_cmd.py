"""Command: `recruit report`, the weekly enrollment report."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("report")(report)


def report(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            metavar="YYYY-Www",
            help="ISO week, e.g. 2026-W47 (default: the last complete one).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="First day (YYYY-MM-DD), with --until."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Last day (YYYY-MM-DD), inclusive."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Directory to write to (default [report] out_dir)."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="html|json|csv", help="html, json or csv.")
    ] = "html",
    email: Annotated[
        list[str] | None,
        typer.Option(
            "--email",
            metavar="ADDR",
            help="E-mail the report here (repeatable; default [report] recipients).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute the report; write and send nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write the enrollment report (aggregates only) for one week or a date range.

    Weeks are ISO weeks in the study's timezone. Prints the path written (at a terminal,
    or with -v).
    """
    actx = get_context(ctx)
    if as_json:
        actx.env.json = True
    from recruit_cli.errors import UsageError
    from recruit_cli.report.render import FORMATS

    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    settings = actx.settings()
    from recruit_cli.cli.render import render_pass
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.report.period import resolve_period
    from recruit_cli.report.run import ReportDetails, report_pass

    # Check the period before touching REDCap, so a typo fails fast with exit 2.
    resolve_period(settings.study.timezone, week=week, since=since, until=until)
    recipients = email or []
    sends = bool(recipients or settings.report.recipients) and not dry_run
    client = RedcapClient.from_settings(settings)
    try:
        with _mail_lock(settings.state_dir) if sends else contextlib.nullcontext():
            result = report_pass(
                settings,
                client,
                week=week,
                since=since,
                until=until,
                fmt=fmt,
                out_dir=out,
                email=recipients,
                dry_run=dry_run,
            )
    finally:
        client.close()
    if actx.env.json:
        render_pass(actx.env, result)
    else:
        for notice in result.notices:
            actx.env.stderr.write(f"{notice}\n")
        prefix = "[dry run] would write " if result.dry_run else ""
        # Quiet under cron (the weekly run would otherwise mail MAILTO every Monday).
        if actx.env.interactive or actx.env.verbose or result.dry_run:
            actx.env.stdout.write(f"{prefix}{result.detail(ReportDetails).path}\n")
    finish(result.exit_code)


@contextlib.contextmanager
def _mail_lock(state_dir: Path) -> Iterator[None]:
    from recruit_cli.lock import run_lock

    with run_lock(state_dir):
        yield
