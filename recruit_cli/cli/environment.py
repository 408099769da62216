"""Where output goes and how it looks: stdout, stderr, colour, --json, -v."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Any

# Every line recruit writes to stderr starts so: errors (cli.main), notices (SAFETY: ...)
# and log lines (logs.py). The --log-file keeps timestamps; cron and journald add their own.
STDERR_PREFIX = "recruit: "


@dataclass
class Environment:
    """Where output goes and how it looks. Tests swap it for one writing to buffers."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    json: bool = False
    verbose: int = 0

    @property
    def interactive(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    @property
    def color(self) -> bool:
        # No colour, spinners or cursor tricks under cron, in pipes, or with NO_COLOR set.
        if os.environ.get("NO_COLOR", "") != "":
            return False
        return self.interactive

    def notice(self, text: str) -> None:
        """One line for the operator on stderr, shaped like recruit's log lines there
        (``recruit: ...``), so that a cron mail reads as one list."""
        for line in text.splitlines() or [""]:
            self.stderr.write(f"{STDERR_PREFIX}{line}\n")
        self.stderr.flush()

    def console(self, *, stderr: bool = False) -> Any:
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        return Console(
            file=stream,
            no_color=not self.color,
            color_system="auto" if self.color else None,
            force_terminal=self.color,
            force_interactive=False,
            highlight=False,
            soft_wrap=not self.color,
            width=None if self.color else 120,
        )


def print_json(env: Environment, payload: dict[str, Any]) -> None:
    env.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
    env.stdout.flush()
