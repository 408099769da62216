"""Doctor's checks of the files recruit keeps: who else can read or change them.

recruit makes its own directories 0700 and files 0600 (``recruit_cli.private``) but keeps
the mode of what exists, so these rows warn about what was made wider by hand, or by an
older version:

- ``.env`` readable by others: the REDCap token (and mail secrets) are in it;
- the state directory writable by others: they could replace a lock file with a symbolic
  link, or the Microsoft token cache with their own;
- the outbox directory writable by others: a planted ``.eml`` file makes recruit believe a
  message went out (``was_sent``), so it would never be sent;
- a lock file that is a symbolic link: the lock refuses it (exit 3);
- a password in ``[redcap] url`` (``https://user:password@host/...``): a secret in the
  configuration file, which is meant to be shared and versioned (recruit never prints it).

They only warn: each is a person's decision to fix, not a reason to stop.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from recruit_cli.doctor.check import OK, WARN, Check

if TYPE_CHECKING:
    from recruit_cli.settings import Settings

OTHERS_READ = 0o044  # group or world may read
OTHERS_WRITE = 0o022  # group or world may write


def permission_checks(settings: Settings) -> list[Check]:
    """The rows: the .env file, the state directory and its locks, the outbox directory."""
    state = settings.state_dir
    checks = [
        _dotenv(settings),
        *_url_credentials(settings),
        _directory("state directory", state, "they could swap a lock file or the token cache"),
    ]
    links = sorted(p.name for p in state.glob("*.lock") if p.is_symlink()) if state.is_dir() else []
    if links:
        checks.append(
            Check(
                "lock file",
                WARN,
                f"{', '.join(links)} in {state} is a symbolic link: runs refuse to lock "
                "through it (exit 3); remove it",
            )
        )
    outbox = settings.email.outbox_dir
    if settings.email.transport == "outbox" or outbox.exists():
        why = "a file planted there would pass for a message recruit sent"
        checks.append(_directory("outbox directory", outbox, why))
    return checks


def _url_credentials(settings: Settings) -> list[Check]:
    from urllib.parse import urlsplit

    if urlsplit(settings.redcap.url).password is None:
        return []
    return [
        Check(
            "REDCap URL",
            WARN,
            "[redcap] url holds a password: a secret in the configuration file, which is "
            "meant to be shared and versioned; ask your REDCap administrator for access "
            "without one, or keep recruit.toml as private as .env (chmod 600)",
        )
    ]


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _dotenv(settings: Settings) -> Check:
    if settings.path is None:
        return Check(".env file", OK, "no configuration file: secrets from the environment")
    path = settings.path.absolute().parent / ".env"
    mode = _mode(path)
    if mode is None:
        return Check(".env file", OK, "none: secrets from the environment")
    if mode & OTHERS_READ:
        return Check(
            ".env file",
            WARN,
            f"{path} is readable by others (mode {mode:04o}) and holds the secrets: "
            f"chmod 600 {path}",
        )
    return Check(".env file", OK, f"{path} (mode {mode:04o})")


def _directory(name: str, path: Path, why: str) -> Check:
    mode = _mode(path)
    if mode is None:
        return Check(name, OK, f"{path} (made 0700 when first needed)")
    if mode & OTHERS_WRITE:
        return Check(
            name, WARN, f"{path} is writable by others (mode {mode:04o}): {why}; chmod 700 {path}"
        )
    return Check(name, OK, f"{path} (mode {mode:04o})")
