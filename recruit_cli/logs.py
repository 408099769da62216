"""Logging set-up: stderr, quiet unless -v, optional --log-file.

Log record ids only, never e-mail addresses, names or questionnaire answers. The log file
is created 0600 (and its directory 0700) and never opened through a symbolic link.
"""

from __future__ import annotations

import logging
from io import TextIOWrapper
from pathlib import Path

from recruit_cli.private import open_private, private_dir

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
    # On stderr, the shape of every other line recruit writes there ("recruit: error: ...",
    # "recruit: SAFETY: ..."): cron mails and terminals read one list. The file keeps times.
    stderr.setFormatter(_StderrFormatter())
    root.addHandler(stderr)
    if log_file is not None:
        try:
            private_dir(log_file.parent)
            fh = _PrivateFileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            from recruit_cli.errors import UsageError

            raise UsageError(f"--log-file {log_file}: {exc.strerror or exc}") from exc
        fh.setLevel(logging.INFO if verbose <= 1 else logging.DEBUG)
        fh.setFormatter(fmt)
        root.addHandler(fh)


class _PrivateFileHandler(logging.FileHandler):
    """A log file created 0600 (the umask would make it readable by everyone), never opened
    through a symbolic link."""

    def _open(self) -> TextIOWrapper:
        fd = open_private(Path(self.baseFilename))
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class _StderrFormatter(logging.Formatter):
    """``recruit: warning: message`` (``recruit: info: [redcap] ...`` with -v)."""

    def format(self, record: logging.LogRecord) -> str:
        where = record.name.removeprefix(LOGGER_NAME).lstrip(".")
        area = f"[{where}] " if where and record.levelno < logging.WARNING else ""
        return f"recruit: {record.levelname.lower()}: {area}{record.getMessage()}" + (
            "\n" + self.formatException(record.exc_info) if record.exc_info else ""
        )


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
