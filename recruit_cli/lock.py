"""A per-host lock so overlapping cron runs stay apart.

An OS-level lock (flock/LockFileEx via portalocker) dies with its process, so a run killed
with SIGKILL never leaves a lock behind that blocks the next one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from recruit_cli.errors import ConfigError, LockHeld
from recruit_cli.private import open_private, private_dir


@contextmanager
def run_lock(state_dir: Path, name: str = "recruit") -> Iterator[None]:
    """Hold ``<state_dir>/<name>.lock`` for the duration, or raise ``LockHeld`` at once."""
    import portalocker

    # The state directory is made 0700 and the lock file 0600 (recruit_cli.private).
    try:
        private_dir(state_dir)
    except OSError as exc:
        raise ConfigError(f"cannot create state directory: {exc.strerror}", path=state_dir) from exc
    path = state_dir / f"{name}.lock"
    try:
        # 0600, and never through a symbolic link (one planted in a state directory others
        # can write to would make every run write where it points).
        fd = open_private(path)
    except OSError as exc:
        raise ConfigError(f"cannot open the lock file: {exc.strerror}", path=path) from exc
    handle: IO[str] = os.fdopen(fd, "a")  # held open for the lock's lifetime
    try:
        try:
            portalocker.lock(handle, portalocker.LOCK_EX | portalocker.LOCK_NB)
        except portalocker.exceptions.LockException as exc:
            raise LockHeld(f"another recruit run holds {path}; exiting") from exc
        yield
    finally:
        handle.close()  # closing releases the lock
