"""`recruit report`: build the weekly report, write it atomically, and optionally e-mail it.

The report only reads REDCap. Writing the file needs no lock; ``run_report`` (the command)
takes the run lock only when the report is e-mailed, like every command that sends mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from recruit_cli.address import InvalidAddress, normalise
from recruit_cli.errors import ConfigError, RecruitError, UsageError
from recruit_cli.exit_codes import ExitCode
from recruit_cli.logs import get_logger
from recruit_cli.private import write_private
from recruit_cli.report.period import resolve_period
from recruit_cli.report.render import CONTENT_TYPES, FORMATS, render
from recruit_cli.results import PassResult

if TYPE_CHECKING:
    from recruit_cli.deadline import Deadline
    from recruit_cli.mail.message import Transport
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.report.model import ReportData
    from recruit_cli.settings import Settings

log = get_logger("report")


@dataclass(frozen=True)
class ReportDetails:
    """What `recruit report` returns (``PassResult.detail``): the file, and who got it."""

    period: str  # "2026-W47" or "2026-11-01..2026-11-30"
    format: str  # html | json | csv
    path: Path  # the file written (a dry run: would write)
    written: bool
    recipients: int
    emailed: bool
    summary: tuple[tuple[str, str], ...]  # (label, value): aggregates only

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "format": self.format,
            "path": str(self.path),
            "written": self.written,
            "recipients": self.recipients,
            "emailed": self.emailed,
            "summary": dict(self.summary),
        }


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content_type: str
    content: bytes


def build_report(
    settings: Settings,
    client: RedcapClient,
    *,
    week: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Fetch from REDCap and compute the report's numbers.

    Args:
        settings: the study settings.
        client: a REDCap client (one record export, plus one log export when no
            survey-timestamp field is configured).
        week: an ISO week like ``2026-W47``; or ``since``/``until`` (inclusive dates); or
            neither: the last complete ISO week before ``now`` in the study timezone.
        now: the time the report is made (queues are as of now); default: the clock.

    Raises:
        UsageError: a bad or contradictory period.
    """
    from recruit_cli.report.data import fetch
    from recruit_cli.report.metrics import compute

    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    period = resolve_period(settings.study.timezone, week=week, since=since, until=until, now=now)
    return compute(fetch(settings, client), settings, period, now)


def report_file(data: ReportData, fmt: str = "html") -> ReportFile:
    """The report rendered in ``fmt``, with its file name (``enrollment-2026-W47.html``)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return ReportFile(
        f"enrollment-{data.period_label}.{fmt}", CONTENT_TYPES[fmt], render(data, fmt)
    )


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so a reader sees the old file or the new one, never half.

    The report is for the study team only: the file is 0600 and a directory made for it 0700.
    """
    try:
        write_private(path, content)
    except OSError as exc:
        raise ConfigError(f"cannot write the report: {exc.strerror}", path=path) from exc


def report_pass(
    settings: Settings,
    client: RedcapClient,
    *,
    week: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    now: datetime | None = None,
    fmt: str = "html",
    out_dir: Path | None = None,
    email: Sequence[str] = (),
    dry_run: bool = False,
    transport: Transport | None = None,
) -> PassResult:
    """The whole command: build, write, and e-mail the report.

    Recipients are ``email`` when given (always sent), else ``settings.report.recipients``
    (sent once per period and template version: skipped when the transport knows the key
    already went out). A mail failure after the file was written is reported in the
    result (its exit code, a notice), not raised, so the written path is still shown.
    """
    given: list[str] = []
    for position, address in enumerate(email, start=1):
        try:
            given.append(normalise(address))
        except InvalidAddress as exc:
            raise UsageError(
                f"--email: argument {position} is not an e-mail address ({exc.reason})"
            ) from exc
    data = build_report(settings, client, week=week, since=since, until=until, now=now)
    file = report_file(data, fmt)
    path = (out_dir or settings.report.out_dir) / file.filename
    recipients = tuple(given) or settings.report.recipients
    notices: list[str] = []
    details = ReportDetails(
        period=data.period_label,
        format=fmt,
        path=path,
        written=not dry_run,
        recipients=len(recipients),
        emailed=False,
        summary=tuple(data.summary()),
    )
    if dry_run:
        return PassResult("report", dry_run=True, details=(details,))
    write_atomic(path, file.content)
    log.info("report %s written to %s", data.period_label, path)
    code = ExitCode.OK
    emailed = False
    if recipients:
        try:
            emailed = _send(
                settings,
                data,
                file,
                recipients,
                explicit=bool(email),
                transport=transport,
                deadline=client.deadline,
            )
            if not emailed:
                notices.append(f"report {data.period_label} was already e-mailed; not sent again")
        except RecruitError as exc:
            code = exc.exit_code
            notices.append(f"report written but not e-mailed: {exc}")
    details = replace(details, emailed=emailed)
    return PassResult("report", notices=tuple(notices), exit_code=code, details=(details,))


def run_report(
    settings: Settings,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    fmt: str = "html",
    out_dir: Path | None = None,
    email: Sequence[str] = (),
    dry_run: bool = False,
) -> PassResult:
    """`recruit report`: check the arguments, then ``report_pass`` against REDCap.

    The format and the period are checked before REDCap is touched, so a typo fails at
    once (exit 2). A report that will be e-mailed is made under the run lock.

    Raises:
        UsageError: a bad format, period or address.
    """
    from recruit_cli.redcap.project import open_project

    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    resolve_period(settings.study.timezone, week=week, since=since, until=until)
    sends = bool(email or settings.report.recipients) and not dry_run
    with open_project(settings, lock=sends) as client:
        return report_pass(
            settings,
            client,
            week=week,
            since=since,
            until=until,
            fmt=fmt,
            out_dir=out_dir,
            email=email,
            dry_run=dry_run,
        )


def _send(
    settings: Settings,
    data: ReportData,
    file: ReportFile,
    recipients: Sequence[str],
    *,
    explicit: bool,
    transport: Transport | None,
    deadline: Deadline,
) -> bool:
    from recruit_cli.mail.compose import compose
    from recruit_cli.mail.message import Attachment
    from recruit_cli.mail.transports import make_transport

    key = f"report:{data.period_label}:{settings.email.template_version}"
    own = transport is None
    sender = make_transport(settings, deadline=deadline) if transport is None else transport
    attached = settings.report.email_format == "attachment"
    link = settings.report.link
    try:
        if not explicit and sender.was_sent(key) is True:
            return False
        message = compose(
            settings,
            "report",
            {
                "period": data.period_label,
                "summary": data.summary(),
                "attached": attached,
                "filename": file.filename,
                "report_link": f"{link.rstrip('/')}/{quote(file.filename)}" if link else "",
            },
            to=list(recipients),
            key=key,
            attachments=(Attachment(file.filename, file.content_type, file.content),)
            if attached
            else (),
        )
        sender.send(message)
        log.info("report %s e-mailed to %d recipient(s)", data.period_label, len(recipients))
        return True
    finally:
        if own:
            sender.close()
