"""Command: `recruit report`, the weekly enrollment report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("report", short_help="Write the enrollment report for a week or dates.")(report)


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

    Weeks are ISO weeks in the study's timezone. Prints the path of the file written.
    """
    from recruit_cli.cli.render import render_report
    from recruit_cli.report.run import run_report

    actx = get_context(ctx)
    actx.env.json = as_json
    result = run_report(
        actx.settings(),
        week=week,
        since=since,
        until=until,
        fmt=fmt,
        out_dir=out,
        email=email or [],
        dry_run=dry_run,
    )
    render_report(actx.env, result)
    finish(result.exit_code)
