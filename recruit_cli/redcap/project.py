"""Opening the configured REDCap project: its shape checked, its lock held, its time bounded.

Every command that talks to REDCap starts here (``open_project``): one call for the project
info, which says

- whether recruit can work on the project at all (``unsupported``): a longitudinal project
  or one with repeating instruments or events exports several rows per record, which the
  passes would read as conflicting answers (or select nobody): refused, exit 3;
- which project it is, the lock's key (``recruit_cli.lock.lock_name``).

The client it yields carries the run's ``Deadline`` (``[ops] max_run_minutes``), so every
REDCap request, and the mail transport made beside it, stops when the run's time is up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recruit_cli.errors import ProjectUnsupported

if TYPE_CHECKING:
    from recruit_cli.deadline import Deadline
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

_TRUE = frozenset({"1", "true", "yes"})


@dataclass(frozen=True)
class ProjectShape:
    """What recruit needs to know of a project before it reads a record."""

    project_id: str  # "" if REDCap didn't say (the lock is then keyed by the URL alone)
    title: str
    longitudinal: bool  # events (and arms)
    repeating: bool  # repeating instruments or events

    @classmethod
    def from_info(cls, info: Mapping[str, str]) -> ProjectShape:
        """From ``export_project_info``'s answer (REDCap's keys, values as text)."""
        return cls(
            project_id=info.get("project_id", "").strip(),
            title=info.get("project_title", ""),
            longitudinal=_flag(info.get("is_longitudinal", "")),
            repeating=_flag(info.get("has_repeating_instruments_or_events", "")),
        )


def unsupported(shape: ProjectShape) -> str:
    """What the project has that recruit doesn't handle yet, as a sentence; "" if nothing.

    The one place that decides it: a later version that handles events or repeating
    instruments relaxes this function, and every command follows.
    """
    has = []
    if shape.longitudinal:
        has.append("events (it is longitudinal)")
    if shape.repeating:
        has.append("repeating instruments or events")
    if not has:
        return ""
    return (
        f"the REDCap project has {' and '.join(has)}, which recruit does not handle yet: "
        "such a project exports several rows per record. recruit works on classic projects "
        "(one row per record); use one, or wait for a version that supports these"
    )


def require_supported(shape: ProjectShape) -> None:
    """Raise ``ProjectUnsupported`` (exit 3) for a project recruit can't work on."""
    problem = unsupported(shape)
    if problem:
        raise ProjectUnsupported(problem)


def read_shape(client: RedcapClient) -> ProjectShape:
    """The project's shape, refused if recruit can't work on it (one API call)."""
    shape = ProjectShape.from_info(client.export_project_info())
    require_supported(shape)
    return shape


@contextmanager
def open_project(
    settings: Settings, *, lock: bool, deadline: Deadline | None = None
) -> Iterator[RedcapClient]:
    """The configured project's client, its shape checked, and its lock if ``lock``.

    Args:
        settings: The configuration.
        lock: Hold the project's run lock (commands that write to REDCap or send mail).
        deadline: The run's bound; default: ``[ops] max_run_minutes`` from now.

    Raises:
        ConfigError: no token (exit 3).
        ProjectUnsupported: the project has events or repeating instruments (exit 3).
        LockHeld: another run of this project holds the lock (exit 0).
        ServiceUnavailable, RedcapError: the project info could not be read.
    """
    from recruit_cli.deadline import run_deadline
    from recruit_cli.lock import lock_name, run_lock
    from recruit_cli.redcap.client import RedcapClient

    bound = deadline if deadline is not None else run_deadline(settings)
    with RedcapClient.from_settings(settings, deadline=bound) as client:
        shape = read_shape(client)
        if not lock:
            yield client
            return
        with run_lock(settings.state_dir, lock_name(settings.redcap.url, shape.project_id)):
            yield client


def _flag(value: str) -> bool:
    return value.strip().lower() in _TRUE
