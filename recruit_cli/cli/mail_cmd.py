"""Commands: invite, notify (participant e-mail, each message exactly once).

Library modules are imported inside each command so that ``recruit --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; send and write nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Records = Annotated[
    list[str] | None,
    typer.Option("--record", metavar="ID", help="Only this record (repeatable)."),
]
Resend = Annotated[
    bool,
    typer.Option("--resend", help="With --record: send again to a record already done (logged)."),
]
To = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="ADDRESS",
        help="With --record: send a test copy of each record's message to this address "
        "instead; nothing is written to REDCap and no participant is e-mailed.",
    ),
]
Preview = Annotated[
    str | None,
    typer.Option(
        "--preview",
        metavar="RECORD",
        help="Print this record's message (subject and text); send and write nothing.",
    ),
]


def invite(
    ctx: typer.Context,
    record: Records = None,
    resend: Resend = False,
    dry_run: DryRun = False,
    json: Json = False,
    to: To = None,
    preview: Preview = None,
) -> None:
    """Send each participant who has a study ID their invitation (the ID and the booking
    link), once."""
    _run(ctx, "invite", record, resend=resend, dry_run=dry_run, json=json, to=to, preview=preview)


def notify(
    ctx: typer.Context,
    record: Records = None,
    resend: Resend = False,
    dry_run: DryRun = False,
    json: Json = False,
    to: To = None,
    preview: Preview = None,
) -> None:
    """E-mail each ineligible person a neutral notice (never the reason), once."""
    _run(ctx, "notify", record, resend=resend, dry_run=dry_run, json=json, to=to, preview=preview)


def _run(
    ctx: typer.Context,
    command: str,
    records: list[str] | None,
    *,
    resend: bool,
    dry_run: bool,
    json: bool,
    to: str | None,
    preview: str | None,
) -> None:
    from recruit_cli.cli.render import render_mail
    from recruit_cli.outreach.command import mail_command

    actx = get_context(ctx)
    actx.env.json = json
    outcome = mail_command(
        actx.settings(),
        command,
        records=records,
        resend=resend,
        dry_run=dry_run,
        to=to,
        preview=preview,
    )
    render_mail(actx.env, outcome)
    finish(outcome.exit_code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("invite", short_help="Invite each participant who has been given a study ID.")(
        invite
    )
    app.command("notify", short_help="Send each ineligible person a neutral notice.")(notify)
