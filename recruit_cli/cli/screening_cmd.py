"""Commands: screen, assign, status, doctor, and `setup fields`.

Library modules are imported inside each command so that ``recruit --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from recruit_cli.cli.context import finish, get_context

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.results import PassResult
    from recruit_cli.settings import Settings

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Records = Annotated[
    list[str] | None,
    typer.Option("--record", metavar="ID", help="Only this record (repeatable)."),
]


def screen(
    ctx: typer.Context, dry_run: DryRun = False, record: Records = None, json: Json = False
) -> None:
    """Classify pending, ready submissions: eligible, ineligible, manual or safety review."""
    from recruit_cli.screening.screen import screen_and_alert

    _locked_pass(ctx, json, lambda s, c: screen_and_alert(s, c, records=record, dry_run=dry_run))


def assign(
    ctx: typer.Context, dry_run: DryRun = False, record: Records = None, json: Json = False
) -> None:
    """Give eligible records the next study ID of their group (verified, race-safe)."""
    from recruit_cli.screening.assign import assign_pass

    _locked_pass(ctx, json, lambda s, c: assign_pass(s, c, records=record, dry_run=dry_run))


def _locked_pass(
    ctx: typer.Context, json: bool, run_pass: Callable[[Settings, RedcapClient], PassResult]
) -> None:
    """Load the settings, hold the run lock, run one pass, render it, exit with its code."""
    from recruit_cli.cli.render import render_pass
    from recruit_cli.redcap.project import open_project

    actx = get_context(ctx)
    actx.env.json = json
    settings = actx.settings()
    with open_project(settings, lock=True) as client:
        result = run_pass(settings, client)
    render_pass(actx.env, result)
    finish(result.exit_code)


def status(ctx: typer.Context, json: Json = False) -> None:
    """Counts per status and group, review and safety queues, free IDs per group."""
    from recruit_cli.cli.render import render_status
    from recruit_cli.ops.status import status_report
    from recruit_cli.redcap.project import open_project

    actx = get_context(ctx)
    actx.env.json = json
    settings = actx.settings()
    with open_project(settings, lock=False) as client:
        report = status_report(settings, client)
    render_status(actx.env, report)
    finish(0)


def doctor(ctx: typer.Context, json: Json = False) -> None:
    """Check the configuration against the REDCap project; non-zero exit on a problem."""
    from recruit_cli.cli.render import render_doctor
    from recruit_cli.doctor import doctor as run_doctor

    actx = get_context(ctx)
    actx.env.json = json
    report = run_doctor(actx.settings)  # a configuration that doesn't load is a failed row
    render_doctor(actx.env, report)
    finish(report.exit_code)


def fields(
    ctx: typer.Context,
    apply: Annotated[
        bool, typer.Option("--apply", help="Add the missing fields to the project.")
    ] = False,
    dry_run: DryRun = False,
    json: Json = False,
) -> None:
    """Print the pipeline fields as data-dictionary CSV; --apply adds the missing ones."""
    from recruit_cli.screening import setup_fields as sf

    actx = get_context(ctx)
    actx.env.json = json
    settings = actx.settings()
    if not apply:
        if json:
            from recruit_cli.cli.render import print_json

            print_json(
                actx.env, {"schema": "recruit.fields/1", "rows": sf.pipeline_field_rows(settings)}
            )
        else:
            actx.env.stdout.write(sf.to_csv(sf.pipeline_field_rows(settings)))
        finish(0)
    from recruit_cli.cli.render import render_pass
    from recruit_cli.redcap.project import open_project

    with open_project(settings, lock=True) as client:
        result = sf.setup_fields(settings, client, dry_run=dry_run)
    render_pass(actx.env, result)
    finish(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command(short_help="Classify new submissions: eligible, ineligible, review.")(screen)
    app.command(short_help="Give each eligible record its group's next study ID.")(assign)
    app.command(short_help="Counts per status and group, the queues, free study IDs.")(status)
    app.command(short_help="Check the configuration against REDCap and the mail.")(doctor)
    setup = typer.Typer(
        name="setup", help="Prepare a REDCap project for recruit.", no_args_is_help=True
    )
    setup.command(short_help="The pipeline fields as data-dictionary CSV (--apply).")(fields)
    app.add_typer(setup)
