"""The survey contents: ``surveyLink``, ``surveyQueueLink``, ``surveyAccessCode``,
``surveyReturnCode`` and ``participantList``.

The links and codes have REDCap's shapes (PyCap's longitudinal integration test records
``https://<server>/surveys/?s=...`` and ``?sq=...``, a 9-character access code and an
8-character return code); here they are derived from the token and the target, so the same
question always gets the same answer. A link answers as plain text.
"""

from __future__ import annotations

from collections.abc import Callable

from recruit_cli.sandbox import export, survey
from recruit_cli.sandbox.params import CONTENT_TYPES, ApiError, Params, Response, invalid
from recruit_cli.sandbox.project import Project

PARTICIPANT_COLUMNS = (
    "email",
    "email_occurrence",
    "identifier",
    "record",
    "invitation_sent_status",
    "invitation_send_time",
    "response_status",
    "survey_access_code",
    "survey_link",
)


def _text(value: str) -> Response:
    return Response(200, value.encode(), CONTENT_TYPES["text"])


def _target(project: Project, params: Params) -> survey.Target:
    record = params.get("record").strip()
    if not record:
        raise ApiError(400, 'The parameter "record" is missing')
    return survey.target(
        project,
        params.get("instrument").strip(),
        record,
        params.get("event").strip(),
        params.get("repeat_instance"),
    )


def link(project: Project, params: Params) -> Response:
    t = _target(project, params)
    return _text(f"{project.base_url}surveys/?s={survey.link_hash(project, t)}")


def queue_link(project: Project, params: Params) -> Response:
    record = params.get("record").strip()
    if not project.design.surveys:
        raise ApiError(400, "The survey queue is not enabled: the project has no surveys")
    if not record or not project.store.existing([record]):
        raise ApiError(400, f"The record '{record}' does not exist")
    return _text(f"{project.base_url}surveys/?sq={survey.queue_hash(project, record)}")


def access_code(project: Project, params: Params) -> Response:
    return _text(survey.access_code(project, _target(project, params)))


def return_code(project: Project, params: Params) -> Response:
    return _text(survey.return_code(project, _target(project, params)))


def participants(project: Project, params: Params) -> Response:
    """One participant per record holding the instrument's event (the sandbox has no
    invitation e-mails, so addresses and send times are blank)."""
    fmt = params.lower("format") or "xml"
    if fmt not in ("json", "csv"):
        raise invalid("format")
    t = survey.target(project, params.get("instrument").strip(), "", params.get("event").strip())
    stamp = f"{t.form}_timestamp"
    rows = project.store.fetch(
        fields={project.dictionary.record_id, stamp}, records=None, checkboxes=frozenset()
    )
    out: list[dict[str, object]] = []
    for (record, event, _instance), values in sorted(
        rows.items(), key=lambda kv: export.record_sort_key(kv[0][0])
    ):
        if event != t.event or _instance != 1:
            continue
        target = survey.Target(record, t.form, t.event, 1)
        out.append(
            {
                "email": "",
                "email_occurrence": 1,
                "identifier": "",
                "record": record,
                "invitation_sent_status": 0,
                "invitation_send_time": "",
                "response_status": survey.response_status(values.get(stamp, "")),
                "survey_access_code": survey.access_code(project, target),
                "survey_link": f"{project.base_url}surveys/?s=" + survey.link_hash(project, target),
            }
        )
    if fmt == "json":
        return Response(200, export.to_json(out), CONTENT_TYPES["json"])
    return Response(200, export.to_csv(out, PARTICIPANT_COLUMNS), CONTENT_TYPES["csv"])


HANDLERS: dict[str, Callable[[Project, Params], Response]] = {
    "surveyLink": link,
    "surveyQueueLink": queue_link,
    "surveyAccessCode": access_code,
    "surveyReturnCode": return_code,
    "participantList": participants,
}
