"""`recruit demo`: the whole pipeline against a local sandbox, in one command.

On a free port it starts the sandbox, writes a config that sends mail to an outbox
directory, makes the synthetic submissions arrive over twelve weeks with a `recruit run`
at each 5-minute cron tick on a simulated clock (``ops.demo_cron``), writes the weekly
report, and reads `recruit status` (the CLI prints it). Every file it makes stays in the
demo directory, so a newcomer can open the e-mails and the report, and rerun any command
against the same data with ``recruit sandbox serve --db <dir>/sandbox.db --port 8765``
(see the README). Like everything recruit makes, its files are 0600 and the directories
it creates 0700 (``private``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from recruit_cli.errors import UsageError
from recruit_cli.private import private_dir, write_private
from recruit_cli.results import PassResult
from recruit_cli.shipped import shipped

if TYPE_CHECKING:
    from recruit_cli.ops.status import StatusReport
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

DEFAULT_DIR = Path("recruit-demo")
DEFAULT_RECORDS = 300
# The demo study's time zone; the sandbox's clock runs in it too, as a REDCap server at the
# study's own site would, so that the report reads submission times on the right clock.
DEMO_TIMEZONE = "America/Los_Angeles"
# The demo runs its sandbox on any free port, then leaves its recruit.toml pointed at this
# one, so that the README's next steps are the same commands every time:
# `recruit sandbox serve --db recruit-demo/sandbox.db --port 8765`.
EXPLORE_PORT = 8765

# Files and directories `recruit demo` owns inside its directory. A rerun starts from a
# fresh sandbox, so the previous run's outputs are removed first; nothing else is touched.
_OWNED = ("sandbox.db", "recruit.toml", ".env")
# SQLite's companions of sandbox.db (WAL mode): left behind, they would be read as part of
# the next demo's fresh database ("disk I/O error").
_DB_COMPANIONS = ("sandbox.db-wal", "sandbox.db-shm", "sandbox.db-journal")
_OWNED_DIRS = ("outbox", "reports", "state")
# Written into the directory by the demo. Only a directory holding it (or a recruit.toml the
# demo wrote, from before the marker existed) is ever cleared: `--dir` pointed at a real
# study by mistake must not delete its recruit.toml, its .env (the REDCap token) or the
# Microsoft sign-in cache in state/.
MARKER = ".recruit-demo"
_MARKER_TEXT = (
    "This directory was made by `recruit demo`. Running it again here replaces\n"
    "sandbox.db, recruit.toml, .env and the files in outbox/, reports/ and state/.\n"
)
_DEMO_CONFIG_HEADER = "# recruit.toml written by `recruit demo`"


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    run: PassResult  # every cron cycle's steps, folded (ops.demo_cron)
    cycles: int  # the simulated cron cycles that had something new
    report_path: Path
    outbox: Path
    emails: int
    port: int  # the port the demo's recruit.toml points at, to serve sandbox.db again
    status: StatusReport  # `recruit status` after the run


def demo_config_text(url: str, *, survey_timestamp: bool = False) -> str:
    """The embedded demo configuration, pointed at ``url``.

    ``survey_timestamp``: submissions are dated by the screening survey's completion time
    (the demo's sandbox enables the survey); without it, by the REDCap log.
    """
    text = shipped("demo", "recruit.toml").read_text(encoding="utf-8")
    submitted = 'submitted_at = "screening_survey_timestamp"' if survey_timestamp else ""
    return Template(text).substitute(url=url, timezone=DEMO_TIMEZONE, submitted_at=submitted)


def prepare_directory(directory: Path) -> None:
    """Create ``directory`` and clear what a previous demo run left there.

    Raises:
        UsageError: the directory holds files the demo would replace but was not made by
            the demo (a study directory, say).
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--dir {directory}: is a file, not a directory")
    private_dir(directory)
    if not _made_by_demo(directory):
        taken = [n for n in (*_OWNED, *_OWNED_DIRS) if (directory / n).exists()]
        if taken:
            raise UsageError(
                f"--dir {directory}: already holds {', '.join(taken)} and was not made by "
                "`recruit demo`; choose another directory (nothing was changed)"
            )
    # Everything that can refuse is checked before anything is deleted.
    if _in_use(directory / "sandbox.db"):
        raise UsageError(
            f"--dir {directory}: its sandbox.db is open in another process (a `recruit "
            "sandbox serve --db` still running?): stop that first (Ctrl-C in its terminal); "
            "nothing was changed"
        )
    for name in (*_OWNED, *_DB_COMPANIONS):
        (directory / name).unlink(missing_ok=True)
    for name in _OWNED_DIRS:
        sub = directory / name
        if sub.is_dir():
            for item in sub.iterdir():
                if item.is_file():
                    item.unlink()
    write_private(directory / MARKER, _MARKER_TEXT.encode())


def _in_use(db: Path) -> bool:
    """Whether another process has the SQLite file open (the sandbox serving it).

    The sandbox keeps its connection open while it serves, which holds a shared lock; an
    exclusive lock is then refused at once (timeout 0). Our own connection is closed again
    before returning, which checkpoints and removes a stale WAL left by a killed server.
    """
    import sqlite3

    if not db.is_file():
        return False
    try:
        conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)  # else not a database at all: it is replaced anyway
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return False


def _made_by_demo(directory: Path) -> bool:
    if (directory / MARKER).is_file():
        return True
    config = directory / "recruit.toml"
    try:
        with config.open(encoding="utf-8") as fh:
            return fh.readline().startswith(_DEMO_CONFIG_HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def run_demo(
    directory: Path = DEFAULT_DIR,
    *,
    records: int = DEFAULT_RECORDS,
    now: datetime | None = None,
) -> DemoResult:
    """Run the demo in ``directory``; the result holds `recruit status` at the end."""
    from recruit_cli.config import load_settings
    from recruit_cli.ops.demo_cron import SURVEY, run_timeline
    from recruit_cli.ops.status import status_report
    from recruit_cli.redcap.project import open_project
    from recruit_cli.sandbox import run_sandbox
    from recruit_cli.sandbox.demo import demo_submissions
    from recruit_cli.settings import time_zone

    directory = directory.resolve()
    prepare_directory(directory)
    # Upper case, as `recruit sandbox serve` prints it: the .env and the served token match.
    token = secrets.token_hex(16).upper()
    with run_sandbox(
        token=token,
        db=directory / "sandbox.db",
        unique_field="assigned_study_id",
        timezone=DEMO_TIMEZONE,
        surveys=[SURVEY],  # submissions carry REDCap's survey completion time
    ) as sandbox:
        config = directory / "recruit.toml"
        write_private(config, demo_config_text(sandbox.url, survey_timestamp=True).encode())
        env_text = (
            "# The demo sandbox's throwaway API token (a local server, not real REDCap).\n"
            f"REDCAP_API_TOKEN={token}\n"
        )
        write_private(directory / ".env", env_text.encode())
        settings = load_settings(config)
        zone = time_zone(DEMO_TIMEZONE)
        end = (now or datetime.now(UTC)).astimezone(zone)
        with open_project(settings, lock=True) as client:
            submissions = demo_submissions(records, now=end.replace(tzinfo=None))
            timeline = run_timeline(settings, client, sandbox, submissions, zone=zone, end=end)
            report_path = _write_report(settings, client, now=end)
            status = status_report(settings, client)
        explore = sandbox.url.replace(f":{sandbox.port}/", f":{EXPLORE_PORT}/", 1)
        write_private(config, demo_config_text(explore, survey_timestamp=True).encode())
    outbox = settings.email.outbox_dir
    return DemoResult(
        directory=directory,
        run=timeline.run,
        cycles=timeline.cycles,
        report_path=report_path,
        outbox=outbox,
        emails=len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0,
        port=EXPLORE_PORT,
        status=status,
    )


def _write_report(settings: Settings, client: RedcapClient, *, now: datetime | None) -> Path:
    """The report for the current week: the demo's invitations went out just now, and the
    default (last complete week) would show none of them."""
    from recruit_cli.report.run import ReportDetails, report_pass

    moment = now or datetime.now(UTC)
    year, week, _ = moment.astimezone(settings.study.zone()).isocalendar()
    result = report_pass(settings, client, week=f"{year}-W{week:02d}", now=moment)
    return result.detail(ReportDetails).path
