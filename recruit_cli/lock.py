"""The per-host lock of a REDCap project, so overlapping runs of one study stay apart.

The lock file is named after the project, not the state directory: the REDCap URL
(normalised, credentials stripped) and the project id, hashed (``lock_name``). Two studies
on one host run independently, even with one state directory; two runs of one study
exclude each other, whatever state directory each was given.

An OS-level lock (flock/LockFileEx via portalocker) dies with its process, so a run killed
with SIGKILL never leaves a lock behind that blocks the next one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from recruit_cli.errors import ConfigError, LockHeld
from recruit_cli.private import open_private, private_dir

_DEFAULT_PORTS = {"http": 80, "https": 443}


def lock_name(redcap_url: str, project_id: str) -> str:
    """The lock's name for one REDCap project: ``recruit-<project id>-<hash>``.

    The URL is normalised first (scheme and host lower-cased, credentials, default port,
    query and a trailing ``/`` dropped), so spellings of one server share one lock. The
    hash keeps the URL out of the file name; the project id is there for people.
    """
    parts = urlsplit(redcap_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # "host:notaport": the URL check at load refuses it anyway
        port = None
    shown = "" if port is None or _DEFAULT_PORTS.get(scheme) == port else f":{port}"
    where = f"{scheme}://{host}{shown}{parts.path.rstrip('/')}"
    digest = hashlib.sha256(f"{where}\n{project_id}".encode()).hexdigest()[:16]
    safe_id = "".join(c for c in project_id if c.isascii() and c.isalnum())[:20] or "project"
    return f"recruit-{safe_id}-{digest}"


@contextmanager
def run_lock(state_dir: Path, name: str = "recruit") -> Iterator[None]:
    """Hold ``<state_dir>/<name>.lock`` for the duration, or raise ``LockHeld`` at once.

    ``name`` is the project's (``lock_name``) for every command that works on a project.
    """
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
