"""Logging set-up: stderr, quiet unless -v, optional --log-file.

Log record ids only, never e-mail addresses, names or questionnaire answers.
"""

from __future__ import annotations

import logging
from pathlib import Path

LOGGER_NAME = "recruit"


def setup_logging(verbose: int = 0, log_file: Path | None = None) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger(LOGGER_NAME)
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    root.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(level)
    stderr.setFormatter(fmt)
    root.addHandler(stderr)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            from recruit_cli.errors import UsageError

            raise UsageError(f"--log-file {log_file}: {exc.strerror or exc}") from exc
        fh.setLevel(logging.INFO if verbose <= 1 else logging.DEBUG)
        fh.setFormatter(fmt)
        root.addHandler(fh)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
