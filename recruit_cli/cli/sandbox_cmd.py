"""Commands: sandbox serve (a local REDCap-compatible API server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recruit_cli.cli.context import finish, get_context

sandbox_app = typer.Typer(
    name="sandbox",
    help="A local REDCap-compatible API server, for trying recruit without REDCap.",
    no_args_is_help=True,
)


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")
    ] = 8765,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite file, kept across restarts (default: memory)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="API token, 32 hex characters (default: kept or generated)."),
    ] = None,
    unique_field: Annotated[
        str | None, typer.Option("--unique-field", help="The project's secondary unique field.")
    ] = None,
    demo: Annotated[
        int,
        typer.Option("--demo", min=0, max=1_000_000, help="Seed N synthetic submissions."),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo data.")] = 7,
    faults: Annotated[
        str | None,
        typer.Option("--faults", help="Fault spec, e.g. '503:0.1,delay:0.2=1.5,seed=3'."),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option("--metadata", help="Data dictionary (REDCap CSV download or JSON)."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="The server clock's time zone (default: this machine's)."),
    ] = None,
    surveys: Annotated[
        str | None,
        typer.Option(
            "--surveys",
            metavar="FORM[,FORM]",
            help="Enable these instruments as surveys (completion timestamps, survey links).",
        ),
    ] = None,
) -> None:
    """Serve a REDCap API at http://HOST:PORT/api/ until Ctrl-C.

    The URL and token are printed on start (the sandbox is local; its token guards nothing
    real). Faults also come from $RECRUIT_SANDBOX_FAULTS; see docs/sandbox.md.
    """
    import signal
    import threading

    from recruit_cli.sandbox import load_metadata, run_sandbox

    actx = get_context(ctx)
    rows = load_metadata(metadata) if metadata is not None else None
    stop = threading.Event()
    # SIGTERM (a service manager, `kill`) stops as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with run_sandbox(
        token=token,
        db=db,
        demo=demo,
        seed=seed,
        unique_field=unique_field,
        faults=faults,
        metadata=rows,
        host=host,
        port=port,
        timezone=timezone,
        surveys=[f.strip() for f in surveys.split(",") if f.strip()] if surveys else None,
    ) as sb:
        out = actx.env.stdout
        out.write(f"REDCap sandbox: {sb.url}\ntoken: {sb.token}\n")
        out.flush()
        actx.env.stderr.write("Serving until Ctrl-C.\n")
        actx.env.stderr.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finish(0)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(sandbox_app, short_help="A local REDCap-compatible API server, to try recruit.")
