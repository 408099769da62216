"""Run every check of `recruit doctor` and gather the rows into one report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from recruit_cli.doctor.check import FAIL, OK, Check, DoctorReport
from recruit_cli.doctor.config_checks import check_ranges, check_rules, check_safety
from recruit_cli.doctor.mail import mail_checks
from recruit_cli.doctor.permissions import permission_checks
from recruit_cli.doctor.project import check_project
from recruit_cli.errors import ConfigError, RecruitError, RedcapNotFound, ServiceUnavailable
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redact import safe_url
from recruit_cli.redcap.project import ProjectShape, unsupported

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings


def doctor(load: Callable[[], Settings]) -> DoctorReport:
    """`recruit doctor`: load the configuration, connect to REDCap, run every check.

    A configuration that doesn't load (a rule that doesn't parse, say) is the report's one
    failed row, with the loader's message (file, line, key and what is wrong), so doctor
    answers with its checklist, as text or JSON, whatever is broken. Without a token the
    local checks still run (``run_doctor``).
    """
    from recruit_cli.deadline import run_deadline
    from recruit_cli.redcap.client import RedcapClient

    try:
        settings = load()
    except ConfigError as exc:
        return DoctorReport((Check("configuration loads", FAIL, str(exc), exc.exit_code),))
    loaded = Check("configuration loads", OK, str(settings.path or ""))
    try:
        client = RedcapClient.from_settings(settings, deadline=run_deadline(settings))
    except ConfigError as exc:  # no token yet: still show every check that needs none
        report = run_doctor(settings, None, no_client=str(exc))
    else:
        with client:
            report = run_doctor(settings, client)
    return DoctorReport((loaded, *report.checks))


def run_doctor(
    settings: Settings, client: RedcapClient | None, *, no_client: str = ""
) -> DoctorReport:
    """Run every check; REDCap failures become failed checks, not exceptions.

    With no client (no token yet: ``no_client`` says why) the local checks still run, and
    the token is one failed row, so a new study sees its whole checklist at once.
    """
    checks = [
        check_rules(settings),
        check_ranges(settings),
        check_safety(settings),
        *mail_checks(settings),
        *permission_checks(settings),
    ]
    if client is None:
        checks.append(Check("token accepted", FAIL, no_client, ExitCode.CONFIG))
        return DoctorReport(tuple(checks))
    try:
        info = client.export_project_info()
    except ServiceUnavailable as exc:
        checks.append(Check("REDCap reachable", FAIL, str(exc), ExitCode.UNAVAILABLE))
        return DoctorReport(tuple(checks))
    except RedcapNotFound as exc:  # a server answered, but no REDCap API at that path
        checks.append(Check("REDCap reachable", FAIL, str(exc), exc.exit_code))
        return DoctorReport(tuple(checks))
    except RecruitError as exc:  # a refused token, or REDCap said no
        checks.append(Check("REDCap reachable", OK, safe_url(settings.redcap.url)))
        checks.append(Check("token accepted", FAIL, str(exc), exc.exit_code))
        return DoctorReport(tuple(checks))
    checks.append(Check("REDCap reachable", OK, safe_url(settings.redcap.url)))
    checks.append(Check("token accepted", OK, f"project {info.get('project_title', '')!r}"))
    problem = unsupported(ProjectShape.from_info(info))
    shape = Check("project shape", FAIL, problem, ExitCode.CONFIG) if problem else None
    checks.append(shape or Check("project shape", OK, "classic: one row per record"))
    try:
        metadata = client.export_metadata()
    except RecruitError as exc:
        checks.append(Check("data dictionary", FAIL, str(exc), exc.exit_code))
        return DoctorReport(tuple(checks))
    checks.extend(check_project(settings, dict(settings.rules()), metadata, info))
    return DoctorReport(tuple(checks))
