"""Commands: auth login | status | logout | test (Microsoft sign-in for the Graph transport)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from recruit_cli.cli.context import AppContext, finish, get_context

if TYPE_CHECKING:
    from recruit_cli.msgraph.auth import MicrosoftAuth, SignInStatus
    from recruit_cli.msgraph.outcomes import TokenCheck

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _auth(actx: AppContext) -> MicrosoftAuth:
    from recruit_cli.errors import ConfigError
    from recruit_cli.msgraph.auth import MicrosoftAuth

    settings = actx.settings()
    if settings.email.transport != "graph":
        raise ConfigError(
            f'`recruit auth` is for transport = "graph"; this configuration sends with '
            f'"{settings.email.transport}", which needs no Microsoft sign-in',
            path=settings.path,
            key="email.transport",
        )
    return MicrosoftAuth.from_settings(settings)


def _show(
    actx: AppContext, command: str, status: SignInStatus, check: TokenCheck | None = None
) -> int:
    """Print a sign-in status (text, or the JSON envelope); return the exit code."""
    from recruit_cli.cli.render import render_sign_in
    from recruit_cli.exit_codes import ExitCode
    from recruit_cli.results import PassResult

    code = ExitCode.OK if status.signed_in else ExitCode.AUTH
    details = (status,) if check is None else (status, check)
    render_sign_in(actx.env, PassResult(command=command, exit_code=code, details=details))
    return code


def login(
    ctx: typer.Context,
    browser: Annotated[
        bool,
        typer.Option("--browser", help="Sign in in a local browser instead of with a device code."),
    ] = False,
    json: Json = False,
) -> None:
    """Sign in to Microsoft (device code by default; app mode checks the client secret)."""
    actx = get_context(ctx)
    actx.env.json = json
    auth = _auth(actx)

    def notify(message: str) -> None:  # device-code instructions: to the person, not stdout
        actx.env.stderr.write(message + "\n")
        actx.env.stderr.flush()

    status = auth.login(browser=browser, notify=notify)
    finish(_show(actx, "auth login", status))


def status(ctx: typer.Context, json: Json = False) -> None:
    """Who is signed in, where the token cache is, when the token expires (exit 6: nobody)."""
    actx = get_context(ctx)
    actx.env.json = json
    finish(_show(actx, "auth status", _auth(actx).status()))


def logout(ctx: typer.Context, json: Json = False) -> None:
    """Remove the signed-in accounts and their tokens from the token cache."""
    from recruit_cli.cli.render import render_sign_out
    from recruit_cli.msgraph.outcomes import SignOut
    from recruit_cli.results import PassResult

    actx = get_context(ctx)
    actx.env.json = json
    auth = _auth(actx)
    result = PassResult("auth logout", details=(SignOut(auth.logout(), auth.cache_path),))
    render_sign_out(actx.env, result)
    finish(result.exit_code)


def test(
    ctx: typer.Context,
    to: Annotated[
        str | None, typer.Option("--to", help="Also send a test message to this address.")
    ] = None,
    json: Json = False,
) -> None:
    """Get a token without interaction, and optionally send a test message."""
    from recruit_cli.mail.transports.graph import GraphTransport, test_message
    from recruit_cli.msgraph.client import GraphClient
    from recruit_cli.msgraph.outcomes import TokenCheck

    actx = get_context(ctx)
    actx.env.json = json
    settings = actx.settings()
    auth = _auth(actx)
    auth.access_token()
    check = TokenCheck()
    if to is not None:
        transport = GraphTransport(GraphClient.from_settings(settings, auth=auth), per_minute=0)
        try:
            receipt = transport.send(test_message(settings, to))
        finally:
            transport.close()
        check = TokenCheck(test_message=receipt.detail)
    finish(_show(actx, "auth test", auth.status(), check))


def register(app: typer.Typer) -> None:
    """Add the ``auth`` group to the root app."""
    group = typer.Typer(
        help="Microsoft sign-in for the Graph mail transport (see docs/microsoft.md).",
        no_args_is_help=True,
    )
    group.command("login", short_help="Sign in to Microsoft (device code by default).")(login)
    group.command("status", short_help="Who is signed in, the token cache, the expiry.")(status)
    group.command("logout", short_help="Remove the signed-in accounts and their tokens.")(logout)
    group.command("test", short_help="Get a token silently; --to sends a test e-mail.")(test)
    app.add_typer(group, name="auth", short_help="Microsoft sign-in for the Graph transport.")
