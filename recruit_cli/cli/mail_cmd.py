"""Commands: invite, notify (participant e-mail, each message exactly once).

Library modules are imported inside each command so that ``recruit --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from recruit_cli.cli.context import finish, get_context

if TYPE_CHECKING:
    from recruit_cli.cli.context import AppContext
    from recruit_cli.settings import Settings

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
    """E-mail each participant with a study ID their invitation and booking link, once."""
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
    from recruit_cli.cli.render import render_pass
    from recruit_cli.errors import UsageError
    from recruit_cli.lock import run_lock
    from recruit_cli.mail.transports import make_transport
    from recruit_cli.outreach.invite import invite_pass
    from recruit_cli.outreach.notify import notify_pass
    from recruit_cli.outreach.preview import send_test_copies
    from recruit_cli.redcap.client import RedcapClient

    actx = get_context(ctx)
    actx.env.json = json
    settings = _with_test_recipient(actx.settings(), to)
    if preview is not None:
        if records or resend or dry_run:
            raise UsageError("--preview cannot be combined with --record, --resend or --dry-run")
        _preview(actx, settings, preview, "invite" if command == "invite" else "ineligible")
        return
    if to is not None and (not records or resend):
        # A redirected pass would mark real participants as e-mailed while nobody got
        # anything; --to is for looking at named records' messages, so it needs --record.
        raise UsageError("--to needs --record (and cannot be combined with --resend)")
    run_pass = invite_pass if command == "invite" else notify_pass
    with run_lock(settings.state_dir), RedcapClient.from_settings(settings) as client:
        transport = make_transport(settings)
        try:
            if to is not None and records:
                kind = "invite" if command == "invite" else "ineligible"
                result = send_test_copies(
                    settings, client, transport, records, kind, dry_run=dry_run
                )
            else:
                result = run_pass(
                    settings, client, transport, records=records, resend=resend, dry_run=dry_run
                )
        finally:
            transport.close()
    render_pass(actx.env, result)
    finish(result.exit_code)


def _with_test_recipient(settings: Settings, to: str | None) -> Settings:
    """``--to``: the settings with every message redirected to ``to``."""
    if to is None:
        return settings
    from dataclasses import replace

    from recruit_cli.address import InvalidAddress, normalise
    from recruit_cli.errors import UsageError

    try:
        address = normalise(to)
    except InvalidAddress as exc:
        raise UsageError(f"--to: the e-mail address is not valid ({exc.reason})") from exc
    return replace(settings, email=replace(settings.email, test_recipient=address))


def _preview(actx: AppContext, settings: Settings, record_id: str, kind: str) -> None:
    from recruit_cli.cli.render import print_json
    from recruit_cli.outreach.preview import preview_message
    from recruit_cli.redcap.client import RedcapClient

    with RedcapClient.from_settings(settings) as client:
        message = preview_message(settings, client, record_id, kind)
    to = ", ".join(_shown(address, settings) for address in message.to)
    if actx.env.json:
        payload = {
            "schema": "recruit.preview/1",
            "record_id": record_id,
            "kind": message.kind,
            "key": message.key,
            "to": to,
            "subject": message.subject,
            "text": message.text,
        }
        print_json(actx.env, payload)
        return
    out = actx.env.stdout
    out.write(f"Key: {message.key}\nTo: {to}\nSubject: {message.subject}\n\n{message.text}")
    if not message.text.endswith("\n"):
        out.write("\n")
    out.flush()


def _shown(address: str, settings: Settings) -> str:
    """The recipient as a preview shows it: masked unless it is the test recipient."""
    from recruit_cli.address import mask

    if settings.email.test_recipient and address == settings.email.test_recipient:
        return f"{address} (test recipient)"
    return mask(address)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("invite")(invite)
    app.command("notify")(notify)
