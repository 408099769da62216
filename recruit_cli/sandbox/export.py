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


def record_sort_key(record: str) -> tuple[int, int, str]:
    """Numeric record ids in numeric order, then the others as text (REDCap's order)."""
    if record.isdigit():
        return (0, int(record), "")
    return (1, 0, record)


@dataclass(frozen=True)
class ExportOptions:
    columns: Sequence[str]  # output columns, record id first, dictionary order
    label: bool = False  # rawOrLabel=label
    checkbox_label: bool = False  # exportCheckboxLabel
    blank_gray_status: bool = False  # exportBlankForGrayFormStatus


def defaults(d: Dictionary, columns: Iterable[str], blank_gray_status: bool) -> dict[str, str]:
    """What a column holds when nothing is stored: unticked "0", gray form status "0"."""
    out = {}
    for column in columns:
        name, code = d.export_columns[column]
        if code is not None or (d.is_complete_field(name) and not blank_gray_status):
            out[column] = "0"
        else:
            out[column] = ""
    return out


def flat_rows(
    d: Dictionary,
    stored: Mapping[str, Mapping[str, str]],
    opts: ExportOptions,
    keep: Callable[[Mapping[str, str]], bool] | None,
    logic_columns: Sequence[str] = (),
) -> list[dict[str, str]]:
    """One dict per record, in record order, every value a string.

    ``keep`` (the compiled filterLogic) sees the raw values of the output columns plus
    ``logic_columns``.
    """
    columns = list(opts.columns)
    extra = [c for c in logic_columns if c not in set(columns)]
    base = defaults(d, [*columns, *extra], opts.blank_gray_status)
    rows = []
    for record in sorted(stored, key=record_sort_key):
        values = stored[record]
        row = {c: values.get(c, base[c]) for c in columns}
        if keep is not None:
            view = row
            if extra:
                view = dict(row)
                view.update({c: values.get(c, base[c]) for c in extra})
            if not keep(view):
                continue
        rows.append(row)
    if opts.label:
        _to_labels(d, rows, columns, opts.checkbox_label)
    return rows


def matching(
    d: Dictionary,
    stored: Mapping[str, Mapping[str, str]],
    keep: Callable[[Mapping[str, str]], bool],
    logic_columns: Sequence[str],
    blank_gray_status: bool,
) -> list[str]:
    """The records whose values of ``logic_columns`` pass ``keep`` (the compiled filter)."""
    base = defaults(d, logic_columns, blank_gray_status)
    return [
        record
        for record, values in stored.items()
        if keep({c: values.get(c, base[c]) for c in logic_columns})
    ]


def _to_labels(
    d: Dictionary, rows: list[dict[str, str]], columns: Sequence[str], checkbox_label: bool
) -> None:
    for column in columns:
        name, code = d.export_columns[column]
        if code is not None:
            label = d.by_name[name].choices[code]
            for row in rows:
                if checkbox_label:
                    row[column] = label if row[column] == "1" else ""
                else:
                    row[column] = "Checked" if row[column] == "1" else "Unchecked"
            continue
        choices = COMPLETE_CHOICES if d.is_complete_field(name) else d.by_name[name].choices
        if not choices or name == d.record_id:
            continue
        for row in rows:
            row[column] = choices.get(row[column], row[column])


def eav_rows(
    d: Dictionary, stored: Iterable[tuple[str, str, str]], fields: set[str], records: set[str]
) -> list[dict[str, str]]:
    """REDCap's EAV export: one row per stored value (a ticked option gives its code)."""
    order = {f.name: i for i, f in enumerate(d.fields)}
    for i, form in enumerate(d.forms):
        order[f"{form}_complete"] = len(order) + i
    rows = [
        (record, name, value)
        for record, name, value in stored
        if record in records and name in fields and name in order
    ]
    rows.sort(key=lambda r: (record_sort_key(r[0]), order[r[1]], r[2]))
    return [{"record": r, "field_name": n, "value": v} for r, n, v in rows]


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
