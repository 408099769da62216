"""Checks against the REDCap project: its data dictionary and project info.

Every configured field exists, the choice codes the rules compare against exist, the
pipeline fields exist with types that can hold recruit's values, and a secondary unique
field guards the study ID (a warning when not). Pure: the caller reads the project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from recruit_cli.doctor.check import FAIL, OK, WARN, Check
from recruit_cli.exit_codes import ExitCode
from recruit_cli.screening.classify import QIDS_TOTAL
from recruit_cli.screening.qids import qids_fields
from recruit_cli.settings import Settings, Status

if TYPE_CHECKING:
    from recruit_cli.logic import Logic
    from recruit_cli.redcap.meta import FieldMeta

SINGLE_CHOICE = frozenset({"radio", "dropdown", "yesno", "truefalse"})
TEXT_FIELDS = (
    "status",
    "reasons",
    "invited_at",
    "notified_at",
    "group",
    "screened_at",
    "email_claim",
    "email_intent",
    "safety_alerted_at",
)


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
    for entry in settings.duplicates.match:  # the fields that identify a person
        for name in entry:
            wanted.setdefault(name, []).append("duplicates.match")
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
    # Fields staff set to "1" (yes): the safety acknowledgement, and "not a duplicate" when
    # the duplicate check is on (a project without [duplicates] never reads it).
    acks = [f.safety_ack] + ([f.duplicate_ok] if settings.duplicates.match else [])
    for name in acks:
        ack = meta.get(name)
        if ack is None:
            missing.append(name)
        elif ack.field_type == "checkbox" or (
            ack.field_type in SINGLE_CHOICE and "1" not in ack.choices
        ):
            problems.append(f"{name}: needs a yes/no (code 1 = acknowledged)")
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
