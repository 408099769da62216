"""What every command receives: output environment and lazily loaded settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from recruit_cli.cli.environment import Environment

if TYPE_CHECKING:
    from recruit_cli.settings import Settings


@dataclass
class AppContext:
    env: Environment = field(default_factory=Environment)  # carries -v as env.verbose
    config_path: Path | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        """Load the configuration once (flag > $RECRUIT_CONFIG > ./recruit.toml)."""
        if self._settings is None:
            from recruit_cli.config import load_settings

            self._settings = load_settings(self.config_path)
        return self._settings


def get_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # a sub-command invoked outside the root app (tests)
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


def finish(code: int) -> None:
    """End a command with its exit code (the library decided it; the CLI only passes it on)."""
    raise typer.Exit(int(code))
