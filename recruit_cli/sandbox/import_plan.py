"""Planning a record import: place each row (record, event, repeat instance), validate every
value against the data dictionary and the project's shape, recalculate the calc fields the
import feeds, and turn it all into one set of changes. Nothing is written unless all of it
is valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from recruit_cli.sandbox import calc, validate
from recruit_cli.sandbox.design import Design
from recruit_cli.sandbox.dictionary import NOT_IMPORTABLE, Dictionary
from recruit_cli.sandbox.params import ApiError
from recruit_cli.sandbox.store import Changes, LogEntry, RowKey

EVENT = "redcap_event_name"
REPEAT_FORM = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
# Columns of an export with exportSurveyFields that an import may carry back; REDCap sets
# them itself, so they are skipped rather than refused.
SURVEY_IDENTIFIER = "redcap_survey_identifier"


@dataclass(frozen=True)
class ImportPlan:
    changes: Changes
    ids: list[str]  # distinct record ids as stored, in import order
    auto_ids: list[str]  # "new,original" pairs (forceAutoNumber)


@dataclass(frozen=True)
class ImportOptions:
    overwrite: bool
    force_auto_number: bool
    date_format: str  # YMD | MDY | DMY
    unique_field: str | None
    username: str
    now: str


@dataclass(frozen=True)
class Shape:
    """What an import is checked against: the data dictionary and the project's design."""

    d: Dictionary
    design: Design

    def row_columns(self) -> list[str]:
        cols = [EVENT] if self.design.longitudinal else []
        if self.design.has_repeating:
            cols += [REPEAT_FORM, REPEAT_INSTANCE]
        return cols

    def skipped(self) -> set[str]:
        return {SURVEY_IDENTIFIER} | {f"{form}_timestamp" for form in self.design.surveys}

    def calc_names(self) -> set[str]:
        return {f.name for f in self.d.fields if f.field_type == "calc"}


def check_columns(shape: Shape, rows: Sequence[Mapping[str, str]]) -> None:
    d = shape.d
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    known = set(shape.row_columns()) | shape.skipped()
    unknown = [
        c
        for c in columns
        if c not in known
        and (
            c not in d.export_columns
            or (c in d.by_name and d.by_name[c].field_type in NOT_IMPORTABLE)
        )
    ]
    if unknown:
        raise ApiError(
            400,
            "The following fields were not found in the project as real data fields: "
            + ", ".join(unknown),
        )
    if d.record_id not in columns:
        raise ApiError(400, f"The record ID field ({d.record_id}) is missing from the data")


def _event_message(design: Design, event: str, column: str) -> str:
    # Recorded from a real server (redcapAPI #348): the label names the event and its arm.
    e = design.event(event)
    arm = next((a for a in design.arms if e is not None and a.num == e.arm_num), None)
    label = f"{e.name} (Arm {e.arm_num}: {arm.name if arm else ''})" if e else event
    return (
        f"This field ('{column}') exists on an instrument that is not designated for the "
        f"event named '{label}'. You are not allowed to import data for this field into this "
        "event."
    )


def _place(
    shape: Shape, row: Mapping[str, str], record: str, errors: list[str]
) -> tuple[RowKey, str] | None:
    """The row's (record, event, instance) and its repeating instrument ("" for none)."""
    design = shape.design
    event = ""
    if design.longitudinal:
        event = row.get(EVENT, "").strip()
        if design.event(event) is None:
            errors.append(
                validate.csv_line(
                    record, EVENT, event, "The value is not a valid unique event name"
                )
            )
            return None
    form = row.get(REPEAT_FORM, "").strip() if design.has_repeating else ""
    instance_text = row.get(REPEAT_INSTANCE, "").strip() if design.has_repeating else ""
    repeats = design.repeat_event(event) or (form and design.repeat_instrument(event, form))
    if form and not design.repeat_instrument(event, form):
        errors.append(
            validate.csv_line(
                record,
                REPEAT_FORM,
                form,
                f"The instrument '{form}' is not a repeating instrument in this event",
            )
        )
        return None
    instance = 1
    if repeats and instance_text:
        if not instance_text.isdigit() or int(instance_text) < 1:
            errors.append(
                validate.csv_line(
                    record,
                    REPEAT_INSTANCE,
                    instance_text,
                    "The repeat instance must be a whole number of 1 or more",
                )
            )
            return None
        instance = int(instance_text)
    elif instance_text and not repeats and instance_text != "1":
        errors.append(
            validate.csv_line(
                record, REPEAT_INSTANCE, instance_text, "This row does not repeat: no instance"
            )
        )
        return None
    return (record, event, instance), form


def _check_form(shape: Shape, key: RowKey, form: str, column: str, errors: list[str]) -> bool:
    """Whether ``column`` may take a value in this row: its instrument is designated for
    the event, and it is the row's repeating instrument exactly when it repeats."""
    d, design = shape.d, shape.design
    record, event, _ = key
    name = d.export_columns[column][0]
    if name == d.record_id:
        return True
    owner = d.form_of(name)
    if design.longitudinal and owner not in design.forms_in(event, d.forms):
        errors.append(validate.csv_line(record, column, "", _event_message(design, event, column)))
        return False
    if form and owner != form:
        message = f"This field is not on the repeating instrument '{form}' of this row"
    elif not form and design.repeat_instrument(event, owner):
        message = (
            f"This field is on the repeating instrument '{owner}': give "
            f"{REPEAT_FORM} and {REPEAT_INSTANCE}"
        )
    else:
        return True
    errors.append(validate.csv_line(record, column, "", message))
    return False


def plan_import(
    shape: Shape,
    rows: Sequence[Mapping[str, str]],
    opts: ImportOptions,
    *,
    existing: set[str],
    stored: Mapping[RowKey, Mapping[str, str]],
    next_id: int,
    unique_values: Mapping[str, str],
) -> ImportPlan:
    """Validate and plan an import against the current state (the caller holds the lock).

    ``stored``: current values (export-column keys) of the rows of the records imported;
    ``unique_values``: record -> current value of the secondary unique field.

    Raises:
        ApiError: 400 with REDCap's message or one CSV line per failing value.
    """
    d = shape.d
    if not rows:
        raise ApiError(400, "There is no data to import")
    check_columns(shape, rows)
    ignored = set(shape.row_columns()) | shape.skipped() | shape.calc_names()
    merged: dict[RowKey, dict[str, str]] = {}
    # The kinds of row each key holds: "" for the record's own row in the event, else the
    # repeating instrument (instance 1 of one shares its key with the record's row).
    row_form: dict[RowKey, set[str]] = {}
    renamed: dict[str, str] = {}
    errors: list[str] = []
    for row in rows:
        original = row[d.record_id].strip()
        if original == "":
            errors.append(validate.csv_line("", d.record_id, "", "The record ID is blank"))
            continue
        record = original
        if opts.force_auto_number:
            if original not in renamed:
                renamed[original] = str(next_id + len(renamed))
            record = renamed[original]
        placed = _place(shape, row, record, errors)
        if placed is None:
            continue
        key, form = placed
        row_form.setdefault(key, set()).add(form)
        target = merged.setdefault(key, {})
        for column, value in row.items():
            # Calc fields are computed by REDCap, never taken from the data (see calc.py).
            if column == d.record_id or column in ignored:
                continue
            if value == "" and not opts.overwrite and column in target:
                continue  # normal: a later blank does not undo an earlier value
            if value != "" and not _check_form(shape, key, form, column, errors):
                continue
            target[column] = value
    _validate_values(d, merged, opts, errors)
    if opts.unique_field:
        errors.extend(_unique_errors(merged, opts.unique_field, unique_values))
    if errors:
        raise ApiError(400, "\n".join(errors))
    changes = _changes(shape, merged, row_form, opts, existing, stored)
    auto = [f"{new},{old}" for old, new in renamed.items()]
    return ImportPlan(changes=changes, ids=list(dict.fromkeys(k[0] for k in merged)), auto_ids=auto)


def _validate_values(
    d: Dictionary,
    merged: Mapping[RowKey, dict[str, str]],
    opts: ImportOptions,
    errors: list[str],
) -> None:
    position = {c: i for i, c in enumerate(d.export_columns)}
    for (record, _event, _instance), values in merged.items():
        # One line per failure, in data-dictionary order whatever the order of the columns.
        for column in sorted(values, key=position.__getitem__):
            value = values[column]
            if value == "":
                continue
            name, code = d.export_columns[column]
            if code is not None:
                message = validate.check_checkbox(value)
            elif d.is_complete_field(name):
                message = validate.check_complete(value)
            else:
                f = d.by_name[name]
                value = validate.normalize_date(value, f.validation, opts.date_format)
                values[column] = value
                message = validate.check_value(f, value)
            if message:
                errors.append(validate.csv_line(record, column, value, message))


def _unique_errors(
    merged: Mapping[RowKey, Mapping[str, str]], field: str, current: Mapping[str, str]
) -> list[str]:
    records = {k[0] for k in merged}
    owner = {v: r for r, v in current.items() if v != "" and r not in records}
    errors = []
    for (record, _event, _instance), values in merged.items():
        value = values.get(field, "")
        if value == "":
            continue
        other = owner.get(value)
        if other is not None and other != record:
            errors.append(
                validate.csv_line(
                    record,
                    field,
                    value,
                    f"This value is already used by record {other}, but {field} is the "
                    "secondary unique field: each record must have a different value",
                )
            )
        else:
            owner[value] = record
    return errors


def _row_changes(
    d: Dictionary,
    key: RowKey,
    values: Mapping[str, str],
    before: Mapping[str, str],
    overwrite: bool,
    ch: Changes,
) -> list[str]:
    """Add one row's writes to ``ch``; the ``field = 'value'`` pairs REDCap logs."""
    details = []
    for column, value in values.items():
        name, code = d.export_columns[column]
        old = before.get(column, "")
        if code is not None:
            ticked = value == "1"
            if (value == "" and not overwrite) or ticked == (old == "1"):
                continue
            (ch.check if ticked else ch.uncheck).append((*key, name, code))
            details.append(f"{name}({code}) = {'checked' if ticked else 'unchecked'}")
            continue
        if (value == "" and not overwrite) or value == old:
            continue
        if value == "":
            ch.clear_values.append((*key, name))
        else:
            ch.set_values.append((*key, name, value))
        details.append(f"{name} = '{value}'")
    return details


def _changes(
    shape: Shape,
    merged: Mapping[RowKey, Mapping[str, str]],
    row_form: Mapping[RowKey, set[str]],
    opts: ImportOptions,
    existing: set[str],
    stored: Mapping[RowKey, Mapping[str, str]],
) -> Changes:
    d = shape.d
    ch = Changes.empty()
    calcs = calc.calc_fields(d)
    now = datetime.strptime(opts.now, "%Y-%m-%d %H:%M:%S")
    details: dict[str, list[str]] = {}
    auto: dict[str, list[str]] = {}
    present: set[RowKey] = set()
    for key, values in merged.items():
        record, event, _instance = key
        lines = details.get(record)
        if lines is None:
            lines = details[record] = []
            if record not in existing:
                ch.new_records.append((record, opts.now))
                lines.append(f"{d.record_id} = '{record}'")
        before = stored.get(key, {})
        base = (record, event, 1)
        if base not in present and d.record_id not in stored.get(base, {}):
            ch.set_values.append((*base, d.record_id, record))  # the record is in this event
        present.add(base)
        lines.extend(_row_changes(d, key, values, before, opts.overwrite, ch))
        if calcs:
            fed = {d.export_columns[c][0] for c in values}
            row = {**before, **{c: v for c, v in values.items() if v != "" or opts.overwrite}}
            forms = set().union(*(_row_forms(shape, event, f) for f in row_form[key]))
            for c in calc.triggered(calcs, fed):
                if c.field.form not in forms:
                    continue  # the calc is on an instrument this row does not hold
                result = calc.compute(c, row, now)
                row[c.field.name] = result
                name = c.field.name
                if result == before.get(name, ""):
                    continue
                if result:
                    ch.set_values.append((*key, name, result))
                else:
                    ch.clear_values.append((*key, name))
                auto.setdefault(record, []).append(f"{name} = '{result}'")
    for record, lines in details.items():
        is_new = record not in existing
        if is_new or lines:
            ch.touched.append(record)
            verb = "Create" if is_new else "Update"
            ch.log.append(_entry(opts, f"{verb} record (API) {record}", lines, record, is_new))
    for record, lines in auto.items():
        if record not in ch.touched:
            ch.touched.append(record)
        ch.log.append(_entry(opts, f"Update record (Auto calculation) {record}", lines, record))
    return ch


def _row_forms(shape: Shape, event: str, form: str) -> set[str]:
    if form:
        return {form}
    design = shape.design
    return {
        f
        for f in design.forms_in(event, shape.d.forms)
        if design.repeat_event(event) or not design.repeat_instrument(event, f)
    }


def _entry(
    opts: ImportOptions, action: str, lines: list[str], record: str, new: bool = False
) -> LogEntry:
    return LogEntry(
        ts=opts.now,
        username=opts.username,
        action=action,
        details=", ".join(lines),
        record=record,
        kind="record_add" if new else "record_edit",
    )
