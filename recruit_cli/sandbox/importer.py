"""Reading the ``data`` of an import: JSON, CSV or flat XML rows of strings, and EAV rows
pivoted to flat ones. Planning the import (validation, changes) is import_plan.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from recruit_cli.logic.lexer import checkbox_key
from recruit_cli.sandbox.dictionary import Dictionary
from recruit_cli.sandbox.params import ApiError

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
    if fmt == "xml":
        from recruit_cli.sandbox.xmlio import parse_xml

        return parse_xml(data)
    raise ApiError(400, f"The sandbox does not import data in the format {fmt!r}")


_ROW_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")


def pivot_eav(rows: Sequence[Mapping[str, str]], d: Dictionary) -> list[dict[str, str]]:
    """EAV rows (record, field_name, value, and the event and repeat columns where the
    project has them) -> flat rows; a checkbox value is its code."""
    flat: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        if not {"record", "field_name", "value"} <= row.keys():
            raise ApiError(400, "EAV data needs the columns record, field_name and value")
        record, name, value = row["record"], row["field_name"], row["value"]
        f = d.by_name.get(name)
        where = {c: row[c] for c in _ROW_COLUMNS if c in row}
        key = (record, *where.values())
        target = flat.setdefault(key, {d.record_id: record, **where})
        if f is not None and f.is_checkbox:
            target[checkbox_key(name, value)] = "1"
        else:
            target[name] = value
    return list(flat.values())
