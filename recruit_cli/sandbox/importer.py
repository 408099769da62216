"""Record import: parse ``data``, validate every value against the data dictionary, and
turn what is left into one set of changes. Nothing is written unless all of it is valid.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recruit_cli.logic.lexer import checkbox_key
from recruit_cli.sandbox import validate
from recruit_cli.sandbox.dictionary import NOT_IMPORTABLE, Dictionary
from recruit_cli.sandbox.params import ApiError
from recruit_cli.sandbox.store import Changes, LogEntry

JSON_SHAPE = (
    "The data being imported is not formatted correctly. The JSON must be in an array, "
    "as in [{ ... }]."
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | str):
        return str(value)
    raise ApiError(400, JSON_SHAPE)


def parse_rows(data: str, fmt: str) -> list[dict[str, str]]:
    """``data`` as a list of string rows.

    Raises:
        ApiError: broken JSON/CSV, or a format the sandbox does not import.
    """
    if fmt == "json":
        try:
            parsed = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ApiError(400, JSON_SHAPE) from exc
        if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
            raise ApiError(400, JSON_SHAPE)
        return [{str(k): _cell(v) for k, v in row.items()} for row in parsed]
    if fmt == "csv":
        reader = csv.reader(io.StringIO(data.lstrip("\ufeff")))
        try:
            table = [row for row in reader if row]
        except csv.Error as exc:
            raise ApiError(400, f"The CSV data could not be parsed: {exc}") from exc
        if not table:
            raise ApiError(400, "There is no data to import")
        header = [h.strip() for h in table[0]]
        rows = []
        for line, cells in enumerate(table[1:], start=2):
            if len(cells) != len(header):
                raise ApiError(
                    400,
                    f"The CSV data is not valid: line {line} has {len(cells)} values "
                    f"but the header has {len(header)}",
                )
            rows.append(dict(zip(header, cells, strict=True)))
        return rows
    raise ApiError(400, f"The sandbox does not import data in the format {fmt!r}")


def pivot_eav(rows: Sequence[Mapping[str, str]], d: Dictionary) -> list[dict[str, str]]:
    """EAV rows (record, field_name, value) -> flat rows; a checkbox value is its code."""
    flat: dict[str, dict[str, str]] = {}
    for row in rows:
        if not {"record", "field_name", "value"} <= row.keys():
            raise ApiError(400, "EAV data needs the columns record, field_name and value")
        record, name, value = row["record"], row["field_name"], row["value"]
        f = d.by_name.get(name)
        target = flat.setdefault(record, {d.record_id: record})
        if f is not None and f.is_checkbox:
            target[checkbox_key(name, value)] = "1"
        else:
            target[name] = value
    return list(flat.values())


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


def check_columns(d: Dictionary, rows: Sequence[Mapping[str, str]]) -> None:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    unknown = [
        c
        for c in columns
        if c not in d.export_columns
        or (c in d.by_name and d.by_name[c].field_type in NOT_IMPORTABLE)
    ]
    if unknown:
        raise ApiError(
            400,
            "The following fields were not found in the project as real data fields: "
            + ", ".join(unknown),
        )
    if d.record_id not in columns:
        raise ApiError(400, f"The record ID field ({d.record_id}) is missing from the data")


def plan_import(
    d: Dictionary,
    rows: Sequence[Mapping[str, str]],
    opts: ImportOptions,
    *,
    existing: set[str],
    stored: Mapping[str, Mapping[str, str]],
    next_id: int,
    unique_values: Mapping[str, str],
) -> ImportPlan:
    """Validate and plan an import against the current state (the caller holds the lock).

    ``stored``: current values (export-column keys) of the records being imported;
    ``unique_values``: record -> current value of the secondary unique field.

    Raises:
        ApiError: 400 with REDCap's message or one CSV line per failing value.
    """
    if not rows:
        raise ApiError(400, "There is no data to import")
    check_columns(d, rows)
    merged: dict[str, dict[str, str]] = {}
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
        target = merged.setdefault(record, {})
        for column, value in row.items():
            if column == d.record_id:
                continue
            if value == "" and not opts.overwrite and column in target:
                continue  # normal: a later blank does not undo an earlier value
            target[column] = value
    position = {c: i for i, c in enumerate(d.export_columns)}
    for record, values in merged.items():
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
    if opts.unique_field:
        errors.extend(_unique_errors(merged, opts.unique_field, unique_values))
    if errors:
        raise ApiError(400, "\n".join(errors))
    changes = _changes(d, merged, opts, existing, stored)
    auto = [f"{new},{old}" for old, new in renamed.items()]
    return ImportPlan(changes=changes, ids=list(merged), auto_ids=auto)


def _unique_errors(
    merged: Mapping[str, Mapping[str, str]], field: str, current: Mapping[str, str]
) -> list[str]:
    owner = {v: r for r, v in current.items() if v != "" and r not in merged}
    errors = []
    for record, values in merged.items():
        value = values.get(field, current.get(record, ""))
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


def _changes(
    d: Dictionary,
    merged: Mapping[str, Mapping[str, str]],
    opts: ImportOptions,
    existing: set[str],
    stored: Mapping[str, Mapping[str, str]],
) -> Changes:
    ch = Changes([], [], [], [], [], [], [])
    for record, values in merged.items():
        is_new = record not in existing
        old = stored.get(record, {})
        details = []
        if is_new:
            ch.new_records.append((record, opts.now))
            ch.set_values.append((record, d.record_id, record))
            details.append(f"{d.record_id} = '{record}'")
        for column, value in values.items():
            name, code = d.export_columns[column]
            before = old.get(column, "")
            if code is not None:
                ticked = value == "1"
                if value == "" and not opts.overwrite:
                    continue
                if ticked == (before == "1"):
                    continue
                (ch.check if ticked else ch.uncheck).append((record, name, code))
                details.append(f"{name}({code}) = {'checked' if ticked else 'unchecked'}")
                continue
            if (value == "" and not opts.overwrite) or value == before:
                continue
            if value == "":
                ch.clear_values.append((record, name))
            else:
                ch.set_values.append((record, name, value))
            details.append(f"{name} = '{value}'")
        if is_new or len(details) > 0:
            ch.touched.append(record)
            verb = "Create" if is_new else "Update"
            ch.log.append(
                LogEntry(
                    ts=opts.now,
                    username=opts.username,
                    action=f"{verb} record (API) {record}",
                    details=", ".join(details),
                    record=record,
                    kind="record_add" if is_new else "record_edit",
                )
            )
    return ch
