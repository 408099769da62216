"""Commands: run (every pass under one lock), demo, init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context

DryRun = Annotated[bool, typer.Option("--dry-run", help="Plan only: write and send nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def run(ctx: typer.Context, dry_run: DryRun = False, json: Json = False) -> None:
    """Screen, alert staff, assign IDs, invite and notify: the cron entry point."""
    from recruit_cli.errors import RecruitError
    from recruit_cli.exit_codes import ExitCode
    from recruit_cli.lock import run_lock
    from recruit_cli.ops.healthcheck import ping
    from recruit_cli.ops.run import run_all
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.render import render_pass

    actx = get_context(ctx)
    actx.env.json = json
    settings = actx.settings()
    url = "" if dry_run else settings.ops.healthcheck_url
    # The lock comes first: a run that finds another one in progress exits 0 without
    # pinging, so the monitor sees one start and one end per real run.
    with run_lock(settings.state_dir):
        ping(url, "start")
        code: int = ExitCode.UNEXPECTED
        try:
            client = RedcapClient.from_settings(settings)
            try:
                result = run_all(settings, client, dry_run=dry_run)
            finally:
                client.close()
            code = result.exit_code
        except RecruitError as exc:
            code = exc.exit_code
            raise
        finally:
            ping(url, str(int(code)))
    render_pass(actx.env, result)
    finish(result.exit_code)


def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo leaves its files.")
    ] = Path("recruit-demo"),
    records: Annotated[
        int, typer.Option("--records", min=1, max=100_000, help="Synthetic submissions.")
    ] = 300,
) -> None:
    """Run the whole pipeline against a local sandbox with synthetic data."""
    from recruit_cli.ops.demo import run_demo, summary_lines

    actx = get_context(ctx)
    result = run_demo(directory, records=records, env=actx.env)
    for line in summary_lines(result):
        actx.env.stdout.write(line + "\n")
    finish(result.run.exit_code)


def init(
    directory: Annotated[Path, typer.Argument(help="The study directory.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Scaffold a study directory: recruit.toml, .env.example and templates/."""
    from recruit_cli.ops.init import init_study

    result = init_study(directory, force=force)
    for path in result.written:
        typer.echo(f"wrote {path}")
    typer.echo("next: fill in recruit.toml, copy .env.example to .env, run `recruit doctor`")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("run")(run)
    app.command("demo")(demo)
    app.command("init")(init)
