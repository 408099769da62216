"""Building record-export rows from EAV values, and writing them as JSON or CSV.

Built for 100,000-record exports: one pass over the stored rows, the filter logic compiled
once, one ``json.dumps`` at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from recruit_cli.sandbox.dictionary import COMPLETE_CHOICES, Dictionary
from recruit_cli.sandbox.rows import Row, Shaper, record_sort_key

__all__ = ["ExportOptions", "eav_rows", "flat_rows", "header", "record_sort_key", "to_csv"]


@dataclass(frozen=True)
class ExportOptions:
    columns: Sequence[str]  # output data columns, record id first, dictionary order
    label: bool = False  # rawOrLabel=label
    checkbox_label: bool = False  # exportCheckboxLabel
    blank_gray_status: bool = False  # exportBlankForGrayFormStatus
    id_columns: Sequence[str] = ()  # event/repeat/survey-identifier columns after the id


def header(d: Dictionary, opts: ExportOptions) -> list[str]:
    """The export's columns: the record id, then the row-identifying columns, then data."""
    columns = list(opts.columns)
    if columns and columns[0] == d.record_id:
        return [columns[0], *opts.id_columns, *columns[1:]]
    return columns


def flat_rows(
    shaper: Shaper,
    rows: Sequence[Row],
    opts: ExportOptions,
    keep: Callable[[Mapping[str, str]], bool] | None,
    logic_columns: Sequence[str] = (),
) -> list[dict[str, object]]:
    """One dict per export row, in record/event/instance order, every data value a string.

    ``keep`` (the compiled filterLogic) sees the raw values of the row's data columns plus
    ``logic_columns``.
    """
    d = shaper.d
    columns = list(opts.columns)
    extra = [c for c in logic_columns if c not in set(columns)]
    with_id = bool(columns) and columns[0] == d.record_id
    out: list[dict[str, object]] = []
    bases: dict[tuple[str, str], dict[str, str]] = {}  # the defaults depend on the row's kind
    for row in rows:
        base = bases.get((row.event, row.form))
        if base is None:
            base = shaper.defaults(row, [*columns, *extra], opts.blank_gray_status)
            bases[(row.event, row.form)] = base
        values = row.values
        data = {c: values.get(c, base[c]) for c in columns}
        if with_id:
            data[d.record_id] = row.record
        if keep is not None:
            view = data
            if extra:
                view = dict(data)
                view.update({c: values.get(c, base[c]) for c in extra})
            if not keep(view):
                continue
        if opts.label:
            _to_labels(d, data, columns, opts.checkbox_label)
        if with_id:
            ids = shaper.id_values(row, opts.label)
            ids.update({c: "" for c in opts.id_columns if c not in ids})
            out.append({d.record_id: row.record, **ids, **data})
        else:
            out.append(dict(data))
    return out


def _to_labels(
    d: Dictionary, row: dict[str, str], columns: Sequence[str], checkbox_label: bool
) -> None:
    for column in columns:
        entry = d.export_columns.get(column)
        if entry is None:
            continue
        name, code = entry
        if code is not None:
            if checkbox_label:
                row[column] = d.by_name[name].choices[code] if row[column] == "1" else ""
            elif row[column] != "":
                row[column] = "Checked" if row[column] == "1" else "Unchecked"
            continue
        if name == d.record_id:
            continue
        choices = COMPLETE_CHOICES if d.is_complete_field(name) else d.by_name[name].choices
        if choices:
            row[column] = choices.get(row[column], row[column])


def header_labels(d: Dictionary, columns: Sequence[str]) -> dict[str, str]:
    """rawOrLabelHeaders=label: each column's field label, ``Label (choice=Choice)`` for a
    checkbox option and ``Complete?`` for a form status (REDCapR's recorded label-header
    export), the REDCap names of the row columns for the others."""
    fixed = {
        "redcap_event_name": "Event Name",
        "redcap_repeat_instrument": "Repeat Instrument",
        "redcap_repeat_instance": "Repeat Instance",
        "redcap_survey_identifier": "Survey Identifier",
    }
    out = {}
    for column in columns:
        entry = d.export_columns.get(column)
        if column in fixed:
            out[column] = fixed[column]
        elif column.endswith("_timestamp") and entry is None:
            out[column] = "Survey Timestamp"
        elif entry is None:
            out[column] = column
        elif d.is_complete_field(entry[0]):
            out[column] = "Complete?"
        else:
            f = d.by_name[entry[0]]
            label = _plain(f.label)
            out[column] = label if entry[1] is None else f"{label} (choice={f.choices[entry[1]]})"
    return out


def _plain(text: str) -> str:
    """A label without its HTML, as REDCap's header labels are."""
    return re.sub(r"<[^>]*>", "", text).strip()


def eav_rows(
    shaper: Shaper,
    stored: Iterable[tuple[str, str, int, str, str]],
    fields: set[str],
    keys: set[tuple[str, str, int]],
) -> list[dict[str, object]]:
    """REDCap's EAV export: one row per stored value (a ticked option gives its code), with
    the event and repeat columns where the project has them."""
    d, design = shaper.d, shaper.design
    order = {f.name: i for i, f in enumerate(d.fields)}
    for i, form in enumerate(d.forms):
        order[f"{form}_complete"] = len(order) + i
    events = {e: i for i, e in enumerate(design.event_names())}
    picked = [r for r in stored if (r[0], r[1], r[2]) in keys and r[3] in fields and r[3] in order]
    picked.sort(key=lambda r: (record_sort_key(r[0]), events.get(r[1], 0), r[2], order[r[3]], r[4]))
    out: list[dict[str, object]] = []
    for record, event, instance, name, value in picked:
        row: dict[str, object] = {"record": record}
        if design.longitudinal:
            row["redcap_event_name"] = event
        if design.has_repeating:
            form = d.form_of(name) if name != d.record_id else ""
            repeats = design.repeat_instrument(event, form)
            row["redcap_repeat_instrument"] = form if repeats else ""
            whole = design.repeat_event(event)
            row["redcap_repeat_instance"] = instance if repeats or whole else ""
        row.update(field_name=name, value=value)
        out.append(row)
    return out


def to_json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# PHP's fputcsv, which REDCap writes CSV with, quotes a cell holding any of these (a space
# too: PyCap's doctest records `1,"Event 1",,1,Yes,...` from a real server).
_NEEDS_QUOTES = re.compile(r'[,"\n\r\t \\]')


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    """CSV as REDCap writes it: a header line, ``\\n`` line ends, fputcsv's quoting."""
    lines = [",".join(_csv_cell(c) for c in columns)]
    lines.extend(",".join(_csv_cell(row.get(c, "")) for c in columns) for row in rows)
    return ("\n".join(lines) + "\n").encode("utf-8")
