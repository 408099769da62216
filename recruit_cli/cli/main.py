"""The root Typer app, the global options, and the single place exceptions become exit codes."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import typer

from recruit_cli import __version__
from recruit_cli.cli import auth_cmd, mail_cmd, ops_cmd, report_cmd, sandbox_cmd, screening_cmd
from recruit_cli.cli.context import AppContext
from recruit_cli.cli.environment import Environment
from recruit_cli.exit_codes import EXIT_CODE_TABLE, ExitCode

EXIT_CODES_HELP = "Exit codes: " + "; ".join(
    f"{code} {meaning}" for code, meaning in EXIT_CODE_TABLE
)

app = typer.Typer(
    name="recruit",
    help=(
        "Research-participant recruitment for studies that keep their data in REDCap.\n\n"
        "Each command is one idempotent pass over REDCap, safe to run from cron."
    ),
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,  # recruit --install-completion / --show-completion (bash, zsh, fish)
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"recruit {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="recruit.toml (else $RECRUIT_CONFIG, ./recruit.toml)"),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
    log_file: Annotated[Path | None, typer.Option("--log-file", help="Also log here.")] = None,
    # Not read here: run() looks for --debug in the arguments itself, as it handles the
    # errors a command raises once typer is done. Declared so typer accepts and shows it.
    debug: Annotated[bool, typer.Option("--debug", help="Tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    from recruit_cli.logs import setup_logging

    setup_logging(verbose, log_file)
    ctx.obj = AppContext(env=Environment(verbose=verbose), config_path=config)


for _module in (sandbox_cmd, screening_cmd, mail_cmd, auth_cmd, report_cmd, ops_cmd):
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map every exception to the exit-code contract."""
    code = run(argv)
    if code == ExitCode.INTERRUPTED:
        _exit_interrupted()
    sys.exit(code)


def _exit_interrupted() -> NoReturn:
    """End a Ctrl-C'd run with exit 130 for certain.

    CPython 3.11 flags a KeyboardInterrupt raised inside ``exec()`` as unhandled even when
    ``run()`` handled it, and then ends the process with SIGINT instead of our exit status
    (cron and health checks would see a signal, not 130). ``exec()`` runs whenever a
    dataclass is defined, so a Ctrl-C during a lazy import hits it. Flush what a normal exit
    would flush, then leave with the status ourselves.
    """
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(ExitCode.INTERRUPTED)


def run(argv: list[str] | None = None) -> int:
    """Run the app and return the exit code. Usage errors are typer's (exit 2, printed by it).

    With ``--json``, stdout always carries one JSON document, failures included: the
    envelope of ``cli.render.render_failure`` (``ok: false``, the exit code and the error),
    while the readable message still goes to stderr.
    """
    from recruit_cli.errors import LockHeld, RecruitError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    as_json = "--json" in args
    stderr = _Tee(sys.stderr) if as_json else None
    try:
        with _stderr_to(stderr):
            app(args=args, prog_name="recruit", standalone_mode=True)
    except SystemExit as exc:  # typer/click end every run this way in standalone mode
        code = exc.code
        if code is None:
            return ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C in a command into exit 130
            print("recruit: interrupted", file=sys.stderr)
        if code == ExitCode.USAGE and _misplaced_global(args):
            print(
                "recruit: global options (--config, -v, --log-file, --debug) go before the "
                "command, e.g. recruit --config recruit.toml -v status",
                file=sys.stderr,
            )
        code = code if isinstance(code, int) else ExitCode.UNEXPECTED
        if stderr is not None and code == ExitCode.USAGE and stderr.error:
            _json_failure(args, code, "UsageError", stderr.error)  # click's own parse errors
        return code
    except LockHeld as exc:
        print(f"recruit: {exc}", file=sys.stderr)
        if as_json:
            _json_failure(args, ExitCode.OK, type(exc).__name__, str(exc))
        return ExitCode.OK
    except RecruitError as exc:
        if debug:
            traceback.print_exc()
        print(f"recruit: error: {exc}", file=sys.stderr)
        if as_json:
            _json_failure(args, exc.exit_code, type(exc).__name__, str(exc))
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C before typer runs the command
        print("recruit: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the one catch-all: an unexpected error, i.e. a bug
        if debug:
            traceback.print_exc()
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        print(f"recruit: {message} (run with --debug for details)", file=sys.stderr)
        if as_json:
            _json_failure(args, ExitCode.UNEXPECTED, type(exc).__name__, message)
        return ExitCode.UNEXPECTED
    return ExitCode.OK


def _json_failure(args: list[str], code: int, kind: str, message: str) -> None:
    from recruit_cli.cli.render import render_failure

    render_failure(Environment(json=True), _command_name(args), ExitCode(code), kind, message)


class _Tee(io.TextIOBase):
    """stderr that also remembers click's "Error: ..." line (a parse error under --json)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.error = ""

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith("Error: "):
                self.error = line.removeprefix("Error: ").strip()
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()


@contextlib.contextmanager
def _stderr_to(stream: io.TextIOBase | None) -> Iterator[None]:
    if stream is None:
        yield
        return
    saved, sys.stderr = sys.stderr, stream
    try:
        yield
    finally:
        sys.stderr = saved


def _command_name(args: list[str]) -> str:
    """The command in ``args`` (``invite`` in ``-c x.toml invite --json``), else ``recruit``."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _GLOBAL_WITH_VALUE else 1
    return args[i] if i < len(args) else "recruit"


_GLOBAL_FLAGS = ("--config", "-c", "--verbose", "--log-file", "--debug")
_GLOBAL_WITH_VALUE = ("--config", "-c", "--log-file")


def _misplaced_global(args: list[str]) -> bool:
    """Whether a global option follows the command (`recruit status --config x`)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):  # skip the global options themselves
        i += 2 if args[i] in _GLOBAL_WITH_VALUE else 1
    after = args[i + 1 :]
    return any(
        a in _GLOBAL_FLAGS or a.split("=", 1)[0] in _GLOBAL_FLAGS or set(a[1:]) == {"v"}
        for a in after
        if a.startswith("-")
    )
