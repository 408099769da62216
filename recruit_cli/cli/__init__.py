"""The command line: a thin skin over the library. Only this package imports typer."""

from recruit_cli.cli.main import app, main

__all__ = ["app", "main"]
