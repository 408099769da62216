"""Surveys: links, codes, the participant list, and (sandbox only) submitting a response.

A survey-enabled instrument has, in each row that holds it, a ``<form>_timestamp``: the
completion time of its survey response (``YYYY-MM-DD HH:MM:SS``), ``[not completed]`` for a
response started but not submitted, blank when nobody answered it as a survey (REDCapR's
recorded survey export shows all three). REDCap sets it; an import cannot.

Real REDCap collects responses on a web page; the sandbox takes them through
``submit_survey`` (the Python API, ``Sandbox.submit_survey``) or a POST of the answers to a
survey link (docs/sandbox.md). Either writes the answers, the form status 2 (Complete) and
the timestamp in one transaction, logged as REDCap logs a response: ``Create survey response
12`` by ``[survey respondent]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from recruit_cli.sandbox.params import ApiError
from recruit_cli.sandbox.project import Project
from recruit_cli.sandbox.store import Changes, RowKey

NOT_COMPLETED = "[not completed]"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # REDCap's codes avoid 0/O and 1/I
_LINK_KEY = "survey_link:"


@dataclass(frozen=True)
class SurveyResponse:
    form: str
    key: RowKey
    completed: bool
    when: str | None = None  # "YYYY-MM-DD HH:MM:SS"; None: now

    def stamp(self, changes: Changes, now: str) -> None:
        """Add the timestamp and relabel the log entries as a survey response's."""
        value = (self.when or now) if self.completed else NOT_COMPLETED
        changes.set_values.append((*self.key, f"{self.form}_timestamp", value))
        record = self.key[0]
        if self.when is not None:  # a backdated response: the record was created then too
            changes.new_records[:] = [
                (r, self.when if r == record else created) for r, created in changes.new_records
            ]
        if record not in changes.touched:
            changes.touched.append(record)
        for i, entry in enumerate(changes.log):
            for verb in ("Create", "Update"):
                if entry.action == f"{verb} record (API) {record}":
                    changes.log[i] = type(entry)(
                        entry.ts,
                        entry.username,
                        f"{verb} survey response {record}",
                        entry.details,
                        entry.record,
                        entry.kind,
                    )


def _code(project: Project, length: int, *parts: object) -> str:
    digest = hmac.new(
        project.token.encode(), "\x00".join(map(str, parts)).encode(), hashlib.sha256
    ).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


@dataclass(frozen=True)
class Target:
    """What a survey link points at: one record's response to one instrument (record ""
    for the public survey, which makes a new record)."""

    record: str
    form: str
    event: str
    instance: int

    def parts(self) -> tuple[str, str, str, int]:
        return (self.record, self.form, self.event, self.instance)


def target(project: Project, form: str, record: str, event: str = "", instance: str = "") -> Target:
    """Check a survey reference the way REDCap's survey methods do.

    Raises:
        ApiError: not a survey, not in that event, or a record that does not exist.
    """
    d, design = project.dictionary, project.design
    if form not in d.forms:
        raise ApiError(400, f'The value of the parameter "instrument" is not valid: {form}')
    if form not in design.surveys:
        raise ApiError(400, f"The instrument '{form}' is not enabled as a survey")
    if design.longitudinal:
        if design.event(event) is None:
            raise ApiError(400, f'The value of the parameter "event" is not valid: {event}')
        if form not in design.forms_in(event, d.forms):
            raise ApiError(400, f"The instrument '{form}' is not designated for event {event}")
    else:
        event = ""
    if record and not project.store.existing([record]):
        raise ApiError(400, f"The record '{record}' does not exist")
    number = int(instance) if instance.strip().isdigit() else 1
    return Target(record, form, event, max(number, 1))


def link_hash(project: Project, t: Target) -> str:
    """The link's code; remembered, so a POST to the link finds its target."""
    code = _code(project, 10, "s", *t.parts())
    project.store.set_setting(_LINK_KEY + code, json.dumps(t.parts()))
    return code


def resolve(project: Project, code: str) -> Target | None:
    raw = project.store.setting(_LINK_KEY + code)
    if raw is None:
        return None
    record, form, event, instance = json.loads(raw)
    return Target(record, form, event, int(instance))


def access_code(project: Project, t: Target) -> str:
    return _code(project, 9, "a", *t.parts())


def return_code(project: Project, t: Target) -> str:
    return _code(project, 8, "r", *t.parts())


def queue_hash(project: Project, record: str) -> str:
    return _code(project, 10, "q", record)


def response_status(timestamp: str) -> int:
    """The participant list's response_status: 0 none, 1 partial, 2 completed."""
    if not timestamp:
        return 0
    return 1 if timestamp == NOT_COMPLETED else 2


def submit_survey(
    project: Project,
    form: str,
    answers: Mapping[str, object],
    *,
    record: str | None = None,
    event: str = "",
    instance: int = 1,
    completed: bool = True,
    when: datetime | None = None,
) -> str:
    """Submit one survey response, as a participant would; returns its record id.

    ``record`` None is a public-survey response: a new record, numbered as REDCap's
    auto-numbering does. ``event`` defaults to the first event holding ``form``.
    ``completed`` False leaves it ``[not completed]`` with form status 0 (Incomplete).
    ``when`` backdates the completion time (a test's or a demo's choice).

    Raises:
        ApiError: not a survey, or an answer the instrument's validation refuses.
    """
    design = project.design
    if design.longitudinal and not event:
        event = next(
            (
                e
                for e in design.event_names()
                if form in design.forms_in(e, project.dictionary.forms)
            ),
            "",
        )
    t = target(project, form, record or "", event, str(instance))
    d = project.dictionary
    with project.store.lock:
        rid = record or project.next_record_name()
        row: dict[str, str] = {d.record_id: rid}
        if design.longitudinal:
            row["redcap_event_name"] = t.event
        repeats = design.repeat_instrument(t.event, form)
        if design.has_repeating:
            row["redcap_repeat_instrument"] = form if repeats else ""
            whole = design.repeat_event(t.event)
            row["redcap_repeat_instance"] = str(t.instance) if repeats or whole else ""
        row.update({k: "" if v is None else str(v) for k, v in answers.items()})
        row[f"{form}_complete"] = "2" if completed else "0"
        stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when is not None else None
        key_instance = t.instance if repeats or design.repeat_event(t.event) else 1
        project.import_records(
            [row],
            overwrite=False,
            force_auto_number=False,
            date_format="YMD",
            survey=SurveyResponse(form, (rid, t.event, key_instance), completed, stamp),
        )
    return rid
