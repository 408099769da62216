"""``content=record``: export, import and delete, in the project's shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from recruit_cli.sandbox import export
from recruit_cli.sandbox.api_common import Outcome, check_names, data_format, ok, text
from recruit_cli.sandbox.dictionary import Dictionary
from recruit_cli.sandbox.export import ExportOptions
from recruit_cli.sandbox.importer import parse_rows, pivot_eav
from recruit_cli.sandbox.params import (
    CONTENT_TYPES,
    ApiError,
    Params,
    Response,
    invalid,
    return_format,
)
from recruit_cli.sandbox.project import Project, parse_time
from recruit_cli.sandbox.rows import SURVEY_IDENTIFIER, Row, Shaper


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
