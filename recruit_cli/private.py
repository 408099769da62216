"""The files and directories recruit creates: its owner's alone, and never through a link.

What recruit writes holds participants' addresses (the outbox), tokens (the Microsoft
cache), or what happened to whom (logs, reports, locks). So every directory it creates is
0700 and every file 0600, whatever the umask says, and a path that is a symbolic link is
refused rather than followed: in a directory others can write to, a link is how a file
would be made to land somewhere else. ``recruit doctor`` warns about what was made wider by
hand (``doctor.permissions``).

Existing files and directories keep their mode: an operator may have chosen it.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SYMLINK_REFUSED = "is a symbolic link: recruit never writes through one (remove it)"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows: the is_symlink check remains


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 (an existing directory is kept).

    Raises:
        OSError: a directory could not be made.
    """
    missing: list[Path] = []
    current = path
    while not current.is_dir() and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():  # a file, or a link to nowhere
                raise
    return path


def open_private(path: Path, *, truncate: bool = False) -> int:
    """Open ``path`` for writing (appending unless ``truncate``), creating it 0600.

    Returns the file descriptor.

    Raises:
        OSError: ``ELOOP`` when ``path`` is a symbolic link; any other error from open().
    """
    if path.is_symlink():
        raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(path))
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | (os.O_TRUNC if truncate else os.O_APPEND)
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # made a link between the check and the open
            raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(path)) from exc
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write ``path`` atomically (a reader sees the old file or the new one), mode 0600.

    Raises:
        OSError: the file or its directory could not be written.
    """
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp made it 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
