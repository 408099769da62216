"""Commands: run (every pass under one lock), demo, init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context

DryRun = Annotated[bool, typer.Option("--dry-run", help="Plan only: write and send nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def run(ctx: typer.Context, dry_run: DryRun = False, json: Json = False) -> None:
    """Screen, alert staff, assign IDs, invite and notify: the cron entry point.

    A step that fails is reported and the later steps still run where that is safe; the
    exit code is the worst step's. Quiet on success off a terminal. With [ops]
    healthcheck_url set, pings <url>/start, then <url>/<exit code>.
    """
    from recruit_cli.cli.render import render_pass
    from recruit_cli.ops.run import run_cycle

    actx = get_context(ctx)
    actx.env.json = json
    result = run_cycle(actx.settings(), dry_run=dry_run)
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
    from recruit_cli.cli.render import render_demo
    from recruit_cli.ops.demo import run_demo

    actx = get_context(ctx)
    result = run_demo(directory, records=records)
    render_demo(actx.env, result)
    finish(result.run.exit_code)


def init(
    directory: Annotated[Path, typer.Argument(help="The study directory.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Scaffold a study directory: recruit.toml, .env.example, .gitignore and templates/."""
    import shlex

    from recruit_cli.ops.init import init_study

    result = init_study(directory, force=force)
    templates = directory / "templates" / "email"
    for path in result.written:
        if path.parent != templates:
            typer.echo(f"wrote {path}")
    copies = [p for p in result.written if p.parent == templates]
    typer.echo(f"wrote {templates}/ ({len(copies)} files: the e-mail templates, to edit)")
    for notice in result.notices:
        typer.echo(notice, err=True)
    here = directory.resolve() == Path.cwd().resolve()
    cd = [] if here else [f"cd {shlex.quote(str(directory))}"]
    token = "0123456789ABCDEF0123456789ABCDEF"  # the README's throwaway sandbox token
    typer.echo("\nNext, on a local sandbox first (README: Setting up a study):")
    for step in (
        *cd,
        f"recruit sandbox serve --port 8765 --demo 50 --token {token} &",
        f'echo "REDCAP_API_TOKEN={token}" > .env && chmod 600 .env',
        "recruit doctor && recruit run --dry-run",
    ):
        typer.echo(f"  {step}")
    typer.echo("Then on your project:")
    for step in (
        "cp .env.example .env && chmod 600 .env    # then put the REDCap API token in it",
        "edit recruit.toml                         # REDCap URL, fields, criteria, groups, e-mail",
        "recruit setup fields                      # the pipeline fields the project needs",
        "recruit doctor                            # checks recruit.toml against the project",
        "recruit run --dry-run                     # what the first pass would do",
    ):
        typer.echo(f"  {step}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("run", short_help="Screen, alert, assign, invite, notify: what cron runs.")(run)
    app.command("demo", short_help="The whole pipeline on a local sandbox, synthetic data.")(demo)
    app.command("init", short_help="Scaffold a study directory: config, .env, templates.")(init)
