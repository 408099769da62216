"""`recruit doctor`: check the configuration against the REDCap project, as a checklist.

Local checks first (the rules parse, group ranges are disjoint, safety alerts have
recipients, the e-mail settings and every template render, someone is signed in to
Microsoft for Graph: ``recruit_cli.mail.checks``), then REDCap: reachable and
the token accepted, every configured field exists, the choice codes the rules compare
against exist, the pipeline fields exist with usable types, and a secondary unique field
guards the study ID (a warning when not). The exit code is the worst failed check's:
3 for configuration problems (a refused token included), 4 when REDCap is unreachable.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recruit_cli.errors import RecruitError, ServiceUnavailable
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.screening.classify import QIDS_TOTAL
from recruit_cli.screening.qids import qids_fields
from recruit_cli.settings import Settings, Status

if TYPE_CHECKING:
    from recruit_cli.logic import Logic
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.redcap.meta import FieldMeta
    from recruit_cli.render import Environment

SCHEMA = "recruit.doctor/1"
OK, WARN, FAIL = "ok", "warn", "fail"
SINGLE_CHOICE = frozenset({"radio", "dropdown", "yesno", "truefalse"})
TEXT_FIELDS = (
    "status",
    "reasons",
    "invited_at",
    "notified_at",
    "group",
    "screened_at",
    "email_claim",
    "safety_alerted_at",
)


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # "ok" | "warn" | "fail"
    detail: str = ""
    exit_code: ExitCode = ExitCode.OK  # the code this failure means


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def exit_code(self) -> ExitCode:
        return worst([c.exit_code for c in self.checks if c.state == FAIL])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "checks": [{"name": c.name, "state": c.state, "detail": c.detail} for c in self.checks],
        }


def check_rules(settings: Settings) -> Check:
    """The rules parsed when the configuration loaded (one that didn't stopped the load)."""
    return Check("rules parse", OK, f"{len(settings.rules())} rules")


def check_ranges(settings: Settings) -> Check:
    spans = sorted((g.first_id, g.last_id, g.name) for g in settings.groups)
    bad = [f"{a[2]} and {b[2]}" for a, b in itertools.pairwise(spans) if b[0] <= a[1]]
    bad += [f"{g.name} (first_id > last_id)" for g in settings.groups if g.first_id > g.last_id]
    if bad:
        return Check("group ID ranges", FAIL, "overlap: " + ", ".join(bad), ExitCode.CONFIG)
    return Check("group ID ranges", OK, f"{len(settings.groups)} disjoint ranges")


def check_safety(settings: Settings) -> Check:
    """Warn when a safety match would reach nobody but the log (or nothing can match)."""
    if settings.safety.when is None:
        return Check("safety alerts", WARN, "no [safety] when rule: nobody is held for review")
    if not settings.safety.notify:
        # The pass still holds such records in safety_review, but staff hear of it only
        # through the log and exit code 5 (see outreach.safety).
        return Check("safety alerts", WARN, "no [safety] notify addresses: alerts only in the log")
    return Check("safety alerts", OK, f"{len(settings.safety.notify)} recipient(s)")


def check_project(
    settings: Settings,
    rules: Mapping[str, Logic],
    metadata: Sequence[FieldMeta],
    project_info: Mapping[str, str],
) -> list[Check]:
    """Every check against the project's dictionary and info. Pure."""
    meta = {m.field_name: m for m in metadata}
    forms = {m.form_name for m in metadata}
    f = settings.fields
    checks: list[Check] = []

    def exists(name: str) -> bool:
        # Survey timestamps (<form>_timestamp) are exportable but not in the dictionary.
        return name in meta or (name.endswith("_timestamp") and name[: -len("_timestamp")] in forms)

    first = metadata[0].field_name if metadata else ""
    if f.record_id != first:
        detail = f"fields.record_id is {f.record_id!r} but the project's is {first!r}"
        checks.append(Check("record id field", FAIL, detail, ExitCode.CONFIG))
    else:
        checks.append(Check("record id field", OK, first))

    wanted: dict[str, list[str]] = {}
    for key in ("email", "language", "do_not_contact", "submitted_at", "booked_at"):
        name = getattr(f, key)
        if name:
            wanted.setdefault(name, []).append(f"fields.{key}")
    for name in qids_fields(settings.qids):
        wanted.setdefault(name, []).append("qids")
    for key, logic in rules.items():
        for name in logic.fields - {QIDS_TOTAL}:
            wanted.setdefault(name, []).append(key)
    missing = [
        f"{n} ({', '.join(sorted(set(k)))})" for n, k in sorted(wanted.items()) if not exists(n)
    ]
    checks.append(
        Check("configured fields exist", FAIL, "missing: " + "; ".join(missing), ExitCode.CONFIG)
        if missing
        else Check("configured fields exist", OK, f"{len(wanted)} fields")
    )
    checks.append(_check_choices(rules, meta))
    checks.extend(_check_pipeline(settings, meta))
    unique = project_info.get("secondary_unique_field", "")
    if unique == f.study_id:
        checks.append(Check("unique study ID", OK, f"{unique} is the secondary unique field"))
    else:
        detail = (
            f"secondary unique field is {unique!r}, not {f.study_id!r}"
            if unique
            else "no secondary unique field"
        ) + "; assign verifies after writing instead (set it in Project Setup for safety)"
        checks.append(Check("unique study ID", WARN, detail))
    return checks


def _check_choices(rules: Mapping[str, Logic], meta: Mapping[str, FieldMeta]) -> Check:
    bad: list[str] = []
    for key, logic in rules.items():
        for field, code in sorted(logic.checkbox_refs):
            m = meta.get(field)
            if m is not None and code not in m.choices:
                bad.append(f"{key}: [{field}({code})] is not a choice of {field}")
        for field, code in logic.comparisons():
            m = meta.get(field)
            if (
                m is not None
                and m.field_type in SINGLE_CHOICE
                and code != ""
                and not _is_choice(code, m.choices)
            ):
                codes = ", ".join(m.choices)
                bad.append(f"{key}: {code!r} is not a choice code of {field} ({codes})")
    if bad:
        return Check("choice codes exist", FAIL, "; ".join(bad), ExitCode.CONFIG)
    return Check("choice codes exist", OK)


def _is_choice(code: str, choices: Mapping[str, str]) -> bool:
    """Whether a compared literal is one of the codes; ``[x] = 1.0`` matches code "1", as
    REDCap compares two numbers as numbers."""
    if code in choices:
        return True
    number = _number(code)
    return number is not None and any(_number(c) == number for c in choices)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None  # "nan" is no number here


def _check_pipeline(settings: Settings, meta: Mapping[str, FieldMeta]) -> list[Check]:
    f = settings.fields
    problems: list[str] = []
    missing: list[str] = []
    for key in TEXT_FIELDS:
        name = getattr(f, key)
        m = meta.get(name)
        if m is None:
            missing.append(name)
        elif m.field_type in ("dropdown", "radio") and key in ("status", "group"):
            need = (
                {str(s) for s in Status} if key == "status" else {g.name for g in settings.groups}
            )
            if not need <= set(m.choices):
                problems.append(f"{name}: choices lack {', '.join(sorted(need - set(m.choices)))}")
        elif m.field_type not in ("text", "notes") or m.validation:
            problems.append(
                f"{name}: {m.field_type} {m.validation} cannot hold recruit's text values "
                "(use text without validation)"
            )
    sid = meta.get(f.study_id)
    if sid is None:
        missing.append(f.study_id)
    elif sid.field_type != "text" or sid.validation not in ("", "integer", "number"):
        problems.append(
            f"{f.study_id}: must be text with integer validation, "
            f"is {sid.field_type} {sid.validation}"
        )
    ack = meta.get(f.safety_ack)
    if ack is None:
        missing.append(f.safety_ack)
    elif ack.field_type == "checkbox" or (
        ack.field_type in SINGLE_CHOICE and "1" not in ack.choices
    ):
        problems.append(f"{f.safety_ack}: needs a yes/no (code 1 = acknowledged)")
    checks = []
    if missing:
        detail = "missing: " + ", ".join(missing) + " (run `recruit setup fields --apply`)"
        checks.append(Check("pipeline fields exist", FAIL, detail, ExitCode.CONFIG))
    else:
        checks.append(Check("pipeline fields exist", OK))
    if problems:
        checks.append(Check("pipeline field types", FAIL, "; ".join(problems), ExitCode.CONFIG))
    else:
        checks.append(Check("pipeline field types", OK))
    return checks


def run_doctor(
    settings: Settings, client: RedcapClient | None, *, no_client: str = ""
) -> DoctorReport:
    """Run every check; REDCap failures become failed checks, not exceptions.

    With no client (no token yet: ``no_client`` says why) the local checks still run, and
    the token is one failed row, so a new study sees its whole checklist at once.
    """
    from recruit_cli.mail.checks import mail_checks

    rules = dict(settings.rules())
    checks = [
        check_rules(settings),
        check_ranges(settings),
        check_safety(settings),
        *mail_checks(settings),
    ]
    if client is None:
        checks.append(Check("token accepted", FAIL, no_client, ExitCode.CONFIG))
        return DoctorReport(tuple(checks))
    try:
        info = client.export_project_info()
    except ServiceUnavailable as exc:
        checks.append(Check("REDCap reachable", FAIL, str(exc), ExitCode.UNAVAILABLE))
        return DoctorReport(tuple(checks))
    except RecruitError as exc:  # a refused token, or REDCap said no
        checks.append(Check("REDCap reachable", OK, settings.redcap.url))
        checks.append(Check("token accepted", FAIL, str(exc), exc.exit_code))
        return DoctorReport(tuple(checks))
    checks.append(Check("REDCap reachable", OK, settings.redcap.url))
    checks.append(Check("token accepted", OK, f"project {info.get('project_title', '')!r}"))
    try:
        metadata = client.export_metadata()
    except RecruitError as exc:
        checks.append(Check("data dictionary", FAIL, str(exc), exc.exit_code))
        return DoctorReport(tuple(checks))
    checks.extend(check_project(settings, rules, metadata, info))
    return DoctorReport(tuple(checks))


def render_doctor(env: Environment, report: DoctorReport) -> None:
    from recruit_cli.render import print_json

    if env.json:
        print_json(env, report.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="recruit doctor", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    styles = {OK: "green", WARN: "yellow", FAIL: "red"}
    for c in report.checks:
        # escape: details quote logic such as "[age]", which rich would read as markup
        table.add_row(c.name, c.state.upper(), escape(c.detail), style=styles[c.state])
    env.console().print(table)
