"""The API: one handler per REDCap ``content`` value, the way PyCap's own fake is laid out.

Each handler turns parameters into a call on the project and its answer into REDCap's
response shape. Client mistakes raise ``ApiError`` (a 4xx); nothing here answers 500 on
purpose.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox.api_common import (
    Handler,
    Outcome,
    check_names,
    data_format,
    ok,
    text,
)
from recruit_cli.sandbox.api_design import HANDLERS as DESIGN_HANDLERS
from recruit_cli.sandbox.api_records import record
from recruit_cli.sandbox.api_survey import HANDLERS as SURVEY_HANDLERS
from recruit_cli.sandbox.dictionary import NOT_IMPORTABLE
from recruit_cli.sandbox.importer import parse_rows
from recruit_cli.sandbox.params import (
    ApiError,
    Params,
    Response,
    error_response,
    invalid,
    return_format,
)
from recruit_cli.sandbox.project import REDCAP_VERSION, Project, parse_time

NO_PERMISSION = "You do not have permissions to use the API"
LOG_KINDS = {
    "record": ("record_add", "record_edit", "record_delete"),
    "record_add": ("record_add",),
    "record_edit": ("record_edit",),
    "record_delete": ("record_delete",),
    "manage": ("manage",),
    "export": ("export",),
    "user": (),
    "lock_record": (),
    "page_view": (),
}


def handle(project: Project, params: Params) -> Outcome:
    """Answer one API request; every client mistake becomes REDCap's error shape."""
    fmt = return_format(params)
    try:
        token = params.get("token").strip().upper()
        if not hmac.compare_digest(token.encode(), project.token.upper().encode()):
            raise ApiError(403, NO_PERMISSION)
        content = params.get("content")
        handler = HANDLERS.get(content)
        if handler is None:
            if content in UNSUPPORTED:
                raise ApiError(400, f"The sandbox does not implement content={content}")
            raise invalid("content")
        return handler(project, params)
    except ApiError as exc:
        return Outcome(error_response(exc.status, exc.message, fmt))


# -- handlers ----------------------------------------------------------------------------------


def version(project: Project, params: Params) -> Outcome:
    project.log_manage("Export REDCap version (API)")
    return text(REDCAP_VERSION)


def project_info(project: Project, params: Params) -> Outcome:
    fmt = data_format(params)
    project.log_manage("Export project information (API)")
    return ok(project.info(), fmt)


def next_record_name(project: Project, params: Params) -> Outcome:
    return text(project.next_record_name())


def instruments(project: Project, params: Params) -> Outcome:
    d = project.dictionary
    rows = [{"instrument_name": f, "instrument_label": d.instrument_label(f)} for f in d.forms]
    response = ok(rows, data_format(params), ("instrument_name", "instrument_label"))
    project.log_manage("Export instruments (API)")
    return response


def field_names(project: Project, params: Params) -> Outcome:
    """Every import/export column with its field and checkbox code, ``<form>_complete``
    included (PyCap's doctest records that from a real server). File and descriptive fields
    are left out; calc fields are listed: REDCap's API help says they are left out too, but
    PyCap's integration test counts 16 names for its 15-field project with two calc fields
    (docs/sandbox.md, "Where sources disagree")."""
    d = project.dictionary
    fmt = data_format(params)
    only = params.get("field")
    if only:
        check_names("field", [only], d.real_fields())
    rows = []
    for column, (name, code) in d.export_columns.items():
        f = d.by_name.get(name)
        if (f is not None and f.field_type in NOT_IMPORTABLE) or (only and name != only):
            continue
        rows.append(
            {"original_field_name": name, "choice_value": code or "", "export_field_name": column}
        )
    return ok(rows, fmt, ("original_field_name", "choice_value", "export_field_name"))


def metadata(project: Project, params: Params) -> Outcome:
    if params.has("data"):
        rows = parse_rows(params.get("data"), params.lower("format") or "xml")
        count = project.import_metadata(rows)
        return text(str(count), committed=True)
    fmt = data_format(params)
    d = project.dictionary
    fields, forms = params.array("fields"), params.array("forms")
    check_names("fields", fields, {f.name for f in d.fields})
    check_names("forms", forms, set(d.forms))
    rows = [
        r
        for r in d.rows()
        if (not fields and not forms) or r["field_name"] in fields or r["form_name"] in forms
    ]
    project.log_manage("Download data dictionary (API)")
    return ok(rows, fmt, METADATA_COLUMNS)


def log(project: Project, params: Params) -> Outcome:
    fmt = data_format(params)
    logtype = params.get("logtype")
    if logtype and logtype not in LOG_KINDS:
        raise invalid("logtype")
    begin = params.get("beginTime")
    end = params.get("endTime")
    entries = project.store.log_rows(
        kinds=LOG_KINDS[logtype] if logtype else None,
        record=params.get("record") or None,
        user=params.get("user") or None,
        begin=parse_time(begin, "beginTime") if begin else None,
        end=parse_time(end, "endTime", end=True) if end else None,
    )
    rows = [
        {
            "timestamp": e.ts[:16],
            "username": e.username,
            "action": e.action,
            "details": e.details,
            "record": e.record,
        }
        for e in entries
    ]
    response = ok(rows, fmt, ("timestamp", "username", "action", "details", "record"))
    project.log_manage("Export Logging (API)")  # after reading: not part of its own answer
    return response


def _wrapped(handler: Callable[[Project, Params], Response]) -> Handler:
    """A handler from api_design/api_survey: its writes count for drop-after-commit."""

    def run(project: Project, params: Params) -> Outcome:
        write = params.has("data") or params.lower("action") == "delete"
        return Outcome(handler(project, params), committed_write=write)

    return run


HANDLERS: dict[str, Handler] = {
    "version": version,
    "project": project_info,
    "metadata": metadata,
    "instrument": instruments,
    "exportFieldNames": field_names,
    "generateNextRecordName": next_record_name,
    "record": record,
    "log": log,
    **{name: _wrapped(h) for name, h in DESIGN_HANDLERS.items()},
    **{name: _wrapped(h) for name, h in SURVEY_HANDLERS.items()},
}

# Valid REDCap contents this sandbox leaves out (see docs/sandbox.md).
UNSUPPORTED = frozenset(
    {
        "file",
        "fileRepository",
        "user",
        "userRole",
        "userRoleMapping",
        "dag",
        "userDagMapping",
        "report",
        "pdf",
        "project_settings",
        "project_xml",
        "attachment",
        "fieldValidation",
        "appRightsCheck",
        "authkey",
    }
)
