"""A REDCap-compatible API server for tests, demos and trying a configuration.

``run_sandbox`` runs it in-process on a free port; ``recruit sandbox serve`` runs it in the
foreground. See docs/sandbox.md for what it covers and the fault grammar.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from recruit_cli.errors import ConfigError, UsageError

FAULTS_ENV = "RECRUIT_SANDBOX_FAULTS"
TOKEN_RE = re.compile(r"^[0-9A-Fa-f]{32}$")

if TYPE_CHECKING:
    from recruit_cli.sandbox.design import Design
    from recruit_cli.sandbox.project import Project
    from recruit_cli.sandbox.server import SandboxServer

__all__ = ["FAULTS_ENV", "Sandbox", "load_metadata", "run_sandbox"]


@dataclass
class Sandbox:
    """A running sandbox: where it is, its token, and the fault switch."""

    url: str
    token: str
    host: str
    port: int
    db: Path | None
    _server: SandboxServer

    def set_faults(self, spec: str | None) -> None:
        """Replace the fault spec at run time ("" or None: no faults).

        Raises:
            UsageError: the spec does not parse.
        """
        self._server.faults.set(spec)

    def submit_survey(
        self,
        form: str,
        answers: Mapping[str, object],
        *,
        record: str | None = None,
        event: str = "",
        instance: int = 1,
        completed: bool = True,
        when: datetime | None = None,
    ) -> str:
        """Submit a survey response as a participant would (not part of REDCap's API).

        Writes the answers, ``<form>_complete`` = 2 and the completion timestamp (``when``,
        default now; ``completed=False``: ``[not completed]`` and status 0) in one go,
        logged as ``Create survey response N`` by ``[survey respondent]``. ``record`` None
        answers the public survey: a new record, numbered next. Returns the record id.

        Raises:
            UsageError: not a survey, or an answer the instrument refuses (REDCap's message).
        """
        from recruit_cli.sandbox.params import ApiError
        from recruit_cli.sandbox.survey import submit_survey

        try:
            return submit_survey(
                self._server.project,
                form,
                answers,
                record=record,
                event=event,
                instance=instance,
                completed=completed,
                when=when,
            )
        except ApiError as exc:
            raise UsageError(f"survey response refused: {exc.message}") from exc

    def survey_url(self, form: str, record: str | None = None, event: str = "") -> str:
        """The survey link of ``record`` (None: the public survey, which makes a new
        record); a form-encoded POST of answers to it submits a response."""
        from recruit_cli.sandbox.params import ApiError
        from recruit_cli.sandbox.survey import link_hash, target

        project = self._server.project
        try:
            t = target(project, form, record or "", event or project.design.first_event())
        except ApiError as exc:
            raise UsageError(exc.message) from exc
        return f"{project.base_url}surveys/?s={link_hash(project, t)}"


def load_metadata(path: Path) -> list[dict[str, str]]:
    """A data dictionary from a REDCap CSV download or a JSON metadata export.

    Raises:
        ConfigError: unreadable or malformed, naming the file.
    """
    from recruit_cli.sandbox.importer import parse_rows
    from recruit_cli.sandbox.params import ApiError

    try:
        data = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read the data dictionary: {exc.strerror}", path=path) from exc
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    try:
        rows = parse_rows(data, fmt)
    except ApiError as exc:
        raise ConfigError(exc.message, path=path) from exc
    return [_from_download(r) for r in rows]


def _from_download(row: Mapping[str, str]) -> dict[str, str]:
    """Accept the column titles of REDCap's data-dictionary CSV download too."""
    from recruit_cli.redcap.meta import METADATA_COLUMNS

    if "field_name" in row:
        return dict(row)
    # REDCap's download uses titles ("Variable / Field Name", ...) in METADATA_COLUMNS order.
    values = list(row.values())
    return dict(
        zip(METADATA_COLUMNS, values + [""] * (len(METADATA_COLUMNS) - len(values)), strict=False)
    )


@contextmanager
def run_sandbox(
    token: str | None = None,
    db: Path | str | None = None,
    demo: int = 0,
    seed: int = 7,
    unique_field: str | None = None,
    faults: str | None = None,
    metadata: Sequence[Mapping[str, object]] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timezone: str | None = None,
    surveys: Sequence[str] | None = None,
    design: Design | None = None,
) -> Iterator[Sandbox]:
    """Run a sandbox in a background thread (port 0: a free port); stop it on exit.

    Args:
        token: 32 hex characters; None keeps the database's token or generates one.
        db: SQLite file (kept across runs); None: in memory.
        demo: seed this many synthetic submissions (only into a project with no records).
        seed: seed of the demo data.
        unique_field: the project's secondary unique field.
        faults: fault spec (docs/sandbox.md); None reads $RECRUIT_SANDBOX_FAULTS.
        metadata: the data dictionary; None keeps the database's or uses DEMO_METADATA.
        timezone: the server clock's time zone (IANA name) for log and record times;
            None: this machine's, as a real REDCap server stamps in its own.
        surveys: the instruments to enable as surveys (None keeps the database's).
        design: the project's shape: arms, events, instrument-event mapping, repeating
            instruments/events, surveys (``recruit_cli.sandbox.design.Design``; None keeps
            the database's, a classic project for a new one). ``surveys`` applies on top.

    Raises:
        UsageError: a bad token, fault spec or port.
        ConfigError: a data dictionary or unique field the sandbox refuses.
    """
    import sqlite3

    from recruit_cli.sandbox.demo import DEMO_METADATA, seed_demo
    from recruit_cli.sandbox.dictionary import DictionaryError
    from recruit_cli.sandbox.faults import Faults
    from recruit_cli.sandbox.project import Project
    from recruit_cli.sandbox.server import SandboxServer, start
    from recruit_cli.sandbox.store import Store

    if demo > 0 and metadata is not None:
        raise UsageError("--demo seeds the demo data dictionary; it cannot be combined with one")
    if token is not None and not TOKEN_RE.match(token):
        raise UsageError("the sandbox token must be 32 hexadecimal characters")
    clock = None
    if timezone is not None:
        from recruit_cli.settings import time_zone

        try:
            clock = time_zone(timezone)
        except ConfigError as exc:  # a command-line option here, not the config file
            raise UsageError(f"unknown time zone {timezone!r}") from exc
    fault_state = Faults()
    fault_state.set(faults if faults is not None else os.environ.get(FAULTS_ENV, ""))
    db_path = Path(db) if db is not None else None
    try:
        store = Store(db_path)
    except sqlite3.Error as exc:  # a file that isn't SQLite
        raise ConfigError(f"cannot open the sandbox database: {exc}", path=db_path) from exc
    except OSError as exc:  # a directory that isn't there, a symbolic link
        raise ConfigError(
            f"cannot open the sandbox database: {exc.strerror}", path=db_path
        ) from exc
    try:
        try:
            project = Project(
                store,
                token=token.upper() if token else None,
                unique_field=unique_field,
                metadata=metadata,
                default_metadata=lambda: DEMO_METADATA,
                clock=clock,
            )
            _set_design(project, design, surveys)
        except DictionaryError as exc:
            raise ConfigError(f"data dictionary: {exc}") from exc
        except sqlite3.Error as exc:  # e.g. read-only or locked by another process
            raise ConfigError(f"cannot use the sandbox database: {exc}", path=db_path) from exc
        if demo > 0 and store.record_count() == 0:
            seed_demo(store, demo, seed, now=datetime.now(clock).replace(tzinfo=None))
        try:
            server = SandboxServer((host, port), project, fault_state)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        thread = start(server)
        real_port = int(server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        project.base_url = f"http://{shown}:{real_port}/"
        try:
            yield Sandbox(
                url=f"http://{shown}:{real_port}/api/",
                token=project.token,
                host=host,
                port=real_port,
                db=db_path,
                _server=server,
            )
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
    finally:
        store.close()


def _set_design(project: Project, design: Design | None, surveys: Sequence[str] | None) -> None:
    """Apply the shape asked for, checking that it names the project's instruments.

    Raises:
        DictionaryError: an instrument that is not in the data dictionary.
    """
    from recruit_cli.sandbox.dictionary import DictionaryError

    new = design if design is not None else project.design
    if surveys is not None:
        new = new.with_surveys(surveys)
    forms = set(project.dictionary.forms)
    named = set(new.surveys) | {f for _e, f in new.mapping} | {r.form for r in new.repeating}
    unknown = sorted(named - forms - {""})
    if unknown:
        raise DictionaryError("no such instrument: " + ", ".join(unknown))
    if new != project.design:
        project.set_design(new)
