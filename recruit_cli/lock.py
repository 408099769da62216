"""A per-host lock so overlapping cron runs stay apart.

An OS-level lock (flock/LockFileEx via portalocker) dies with its process, so a run killed
with SIGKILL never leaves a lock behind that blocks the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from recruit_cli.errors import ConfigError, LockHeld


@contextmanager
def run_lock(state_dir: Path, name: str = "recruit") -> Iterator[None]:
    """Hold ``<state_dir>/<name>.lock`` for the duration, or raise ``LockHeld`` at once."""
    import portalocker

    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create state directory: {exc.strerror}", path=state_dir) from exc
    path = state_dir / f"{name}.lock"
    handle: IO[str] = open(path, "a")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            portalocker.lock(handle, portalocker.LOCK_EX | portalocker.LOCK_NB)
        except portalocker.exceptions.LockException as exc:
            raise LockHeld(f"another recruit run holds {path}; exiting") from exc
        yield
    finally:
        handle.close()  # closing releases the lock
