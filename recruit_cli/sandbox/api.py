"""The API: one handler per REDCap ``content`` value, the way PyCap's own fake is laid out.

Each handler turns parameters into a call on the project and its answer into REDCap's
response shape. Client mistakes raise ``ApiError`` (a 4xx); nothing here answers 500 on
purpose.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import export
from recruit_cli.sandbox.api_design import HANDLERS as DESIGN_HANDLERS
from recruit_cli.sandbox.api_survey import HANDLERS as SURVEY_HANDLERS
from recruit_cli.sandbox.dictionary import NOT_IMPORTABLE, Dictionary
from recruit_cli.sandbox.export import ExportOptions
from recruit_cli.sandbox.importer import parse_rows, pivot_eav
from recruit_cli.sandbox.params import (
    CONTENT_TYPES,
    ApiError,
    Params,
    Response,
    error_response,
    invalid,
    return_format,
)
from recruit_cli.sandbox.project import REDCAP_VERSION, Project, parse_time
from recruit_cli.sandbox.rows import SURVEY_IDENTIFIER, Row, Shaper

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


@dataclass(frozen=True)
class Outcome:
    response: Response
    committed_write: bool = False  # a write was applied: drop-after-commit may strike


Handler = Callable[[Project, Params], Outcome]


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


# -- helpers ---------------------------------------------------------------------------------


def data_format(params: Params) -> str:
    """The format of exported data: json or csv (REDCap's default, xml, is not served)."""
    fmt = params.lower("format") or "xml"
    if fmt in ("json", "csv"):
        return fmt
    if fmt in ("xml", "odm"):
        raise ApiError(400, f"The sandbox does not export format={fmt}: use json or csv")
    raise invalid("format")


def ok(data: Any, fmt: str, columns: Sequence[str] | None = None) -> Outcome:
    if fmt == "json":
        return Outcome(Response(200, export.to_json(data), CONTENT_TYPES["json"]))
    rows = data if isinstance(data, list) else [data]
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    return Outcome(Response(200, export.to_csv(rows, cols), CONTENT_TYPES["csv"]))


def text(value: str, *, committed: bool = False) -> Outcome:
    return Outcome(Response(200, value.encode("utf-8"), CONTENT_TYPES["text"]), committed)


def check_names(param: str, given: Sequence[str], valid: set[str]) -> None:
    bad = [n for n in given if n not in valid]
    if bad:
        listed = ", ".join(f"'{n}'" for n in bad)
        raise ApiError(
            400, f'The following values in the parameter "{param}" are not valid: {listed}'
        )


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


# -- records -----------------------------------------------------------------------------------


def record(project: Project, params: Params) -> Outcome:
    action = params.lower("action")
    if action == "delete":
        count = project.delete_records(
            params.array("records"),
            arm=params.get("arm").strip(),
            instrument=params.get("instrument").strip(),
            event=params.get("event").strip(),
            instance=params.get("repeat_instance").strip(),
        )
        return text(str(count), committed=True)
    if action not in ("", "import", "export"):
        raise invalid("action")
    if params.has("data"):
        return import_records(project, params)
    return export_records(project, params)


def import_records(project: Project, params: Params) -> Outcome:
    data_fmt = params.lower("format") or "xml"
    rows = parse_rows(params.get("data"), data_fmt)
    record_type = params.lower("type") or "flat"
    if record_type not in ("flat", "eav"):
        raise invalid("type")
    if record_type == "eav":
        rows = pivot_eav(rows, project.dictionary)
    overwrite = params.lower("overwriteBehavior") or "normal"
    if overwrite not in ("normal", "overwrite"):
        raise invalid("overwriteBehavior")
    date_format = params.get("dateFormat").upper() or "YMD"
    if date_format not in ("YMD", "MDY", "DMY"):
        raise invalid("dateFormat")
    returned = params.lower("returnContent") or "count"
    if returned not in ("count", "ids", "auto_ids", "nothing"):
        raise invalid("returnContent")
    force = params.flag("forceAutoNumber")
    plan = project.import_records(
        rows, overwrite=overwrite == "overwrite", force_auto_number=force, date_format=date_format
    )
    fmt = return_format(params)
    if returned == "nothing":
        body = b""
    elif returned == "count":
        body = _count_body(len(plan.ids), fmt)
    else:
        ids = plan.auto_ids if returned == "auto_ids" and force else plan.ids
        body = _ids_body(ids, fmt)
    ctype = CONTENT_TYPES[fmt]
    return Outcome(Response(200, body, ctype), committed_write=True)


def _count_body(count: int, fmt: str) -> bytes:
    if fmt == "json":
        return export.to_json({"count": count})
    if fmt == "csv":
        return str(count).encode()
    return f'<?xml version="1.0" encoding="UTF-8" ?><count>{count}</count>'.encode()


def _ids_body(ids: Sequence[str], fmt: str) -> bytes:
    if fmt == "json":
        return export.to_json(list(ids))
    if fmt == "csv":
        return ("id\n" + "".join(f"{i}\n" for i in ids)).encode()
    inner = "".join(f"<id>{i}</id>" for i in ids)
    return f'<?xml version="1.0" encoding="UTF-8" ?><ids>{inner}</ids>'.encode()


def _logic(d: Dictionary, text_: str) -> tuple[Callable[[Any], bool], list[str]] | None:
    if not text_.strip():
        return None
    from recruit_cli.errors import LogicError
    from recruit_cli.logic import parse

    try:
        logic = parse(text_)
    except LogicError as exc:
        raise ApiError(
            400, f'The value of the parameter "filterLogic" is not valid: {exc}'
        ) from exc
    unknown = sorted(n for n in logic.fields if n not in d.real_fields())
    if unknown:
        raise ApiError(
            400,
            "The filter logic uses fields that do not exist in the project: " + ", ".join(unknown),
        )
    columns = [c for c, (name, _code) in d.export_columns.items() if name in logic.fields]
    return logic.matches, columns


def _survey_columns(project: Project, columns: list[str]) -> list[str]:
    """exportSurveyFields: each survey instrument's ``<form>_timestamp`` before its first
    column (REDCapR's recorded survey export: ``participant_id, redcap_survey_identifier,
    prescreening_survey_timestamp, dob, ...``)."""
    d, surveys = project.dictionary, set(project.design.surveys)
    out: list[str] = []
    seen: set[str] = set()
    for column in columns:
        form = d.form_of(d.export_columns[column][0]) if column in d.export_columns else ""
        if form in surveys and form not in seen:
            seen.add(form)
            out.append(f"{form}_timestamp")
        out.append(column)
    # The record id leads its form's columns; its form's timestamp comes right after it.
    if len(out) > 1 and out[1] == columns[0] and out[0].endswith("_timestamp"):
        out[0], out[1] = out[1], out[0]
    return out


def export_records(project: Project, params: Params) -> Outcome:
    fmt = data_format(params)
    d, design = project.dictionary, project.design
    record_type = params.lower("type") or "flat"
    if record_type not in ("flat", "eav"):
        raise invalid("type")
    raw_or_label = params.lower("rawOrLabel") or "raw"
    if raw_or_label not in ("raw", "label"):
        raise invalid("rawOrLabel")
    label_headers = (params.lower("rawOrLabelHeaders") or "raw") == "label"
    survey_fields = params.flag("exportSurveyFields") and bool(design.surveys)
    params.flag("exportDataAccessGroups")
    opts_flags = (params.flag("exportCheckboxLabel"), params.flag("exportBlankForGrayFormStatus"))
    stamps = {f"{form}_timestamp" for form in design.surveys}
    fields, forms = params.array("fields"), params.array("forms")
    check_names("fields", fields, d.real_fields() | stamps)
    check_names("forms", forms, set(d.forms))
    events = params.array("events")
    if events:
        if not design.longitudinal:
            raise ApiError(400, 'The parameter "events" can only be used in longitudinal projects')
        check_names("events", events, set(design.event_names()))
    logic = _logic(d, params.get("filterLogic"))
    # Since REDCap 6.0 a fields/forms selection gets the record id only when it asks for it
    # (its release notes; redcapAPI #122 shows a real forms-only export without it).
    columns = d.columns_for([f for f in fields if f not in stamps], forms)
    asked_stamps = {f for f in fields if f in stamps}
    if survey_fields or asked_stamps:
        columns = [
            c
            for c in _survey_columns(project, columns)
            if c not in stamps or survey_fields or c in asked_stamps
        ]
    logic_columns = logic[1] if logic else []
    wanted_names: set[str] | None = None
    if fields or forms:
        # The record id is fetched anyway: every record gets a row, data or not.
        wanted_names = {d.record_id, *asked_stamps}
        wanted_names.update(
            d.export_columns[c][0] if c in d.export_columns else c
            for c in [*columns, *logic_columns]
        )
    records = params.array("records") or None
    begin, end = params.get("dateRangeBegin"), params.get("dateRangeEnd")
    with project.store.lock:
        changed = None
        if begin or end:
            changed = project.store.changed_between(
                parse_time(begin, "dateRangeBegin") if begin else None,
                parse_time(end, "dateRangeEnd", end=True) if end else None,
            )
        checkboxes = frozenset(f.name for f in d.fields if f.is_checkbox)
        stored = project.store.fetch(fields=wanted_names, records=records, checkboxes=checkboxes)
    stored = {
        k: v
        for k, v in stored.items()
        if (changed is None or k[0] in changed) and (not events or k[1] in events)
    }
    shaper = Shaper(d, design)
    id_columns = shaper.id_columns()
    if survey_fields:
        id_columns.append(SURVEY_IDENTIFIER)
    opts = ExportOptions(
        columns=columns,
        label=raw_or_label == "label",
        checkbox_label=opts_flags[0],
        blank_gray_status=opts_flags[1],
        id_columns=id_columns,
    )
    keep = logic[0] if logic else None
    rows = shaper.split(stored)
    if record_type == "eav":
        if keep is not None:
            rows = [r for r in rows if keep(_logic_view(shaper, r, logic_columns, opts))]
        names = {d.export_columns[c][0] if c in d.export_columns else c for c in columns}
        keys = {(r.record, r.event, r.instance or 1) for r in rows}
        eav = export.eav_rows(shaper, project.store.fetch_eav({k[0] for k in keys}), names, keys)
        head = [c for c in ("record", *shaper.id_columns(), "field_name", "value")]
        response = ok(eav, fmt, head)
    else:
        data = export.flat_rows(shaper, rows, opts, keep, logic_columns)
        head = export.header(d, opts)
        if label_headers:
            names_ = export.header_labels(d, head)
            data = [{names_[k]: v for k, v in row.items()} for row in data]
            head = [names_[c] for c in head]
        response = ok(data, fmt, head)
    project.log_export_entry(fmt, raw_or_label)
    return response


def _logic_view(
    shaper: Shaper, row: Row, logic_columns: Sequence[str], opts: ExportOptions
) -> dict[str, str]:
    base = shaper.defaults(row, logic_columns, opts.blank_gray_status)
    return {c: row.values.get(c, base[c]) for c in logic_columns}


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
